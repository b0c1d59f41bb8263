using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Steller.Application.EventStore;
using Steller.Bench;
using Steller.Infrastructure.EventStoreDb;

// Steller's EventStoreDB adapter beside the official Node client on the same server, with the same payloads, in one
// run: sequential single-event appends, sequential batches, and concurrent writers (each its own stream). Usually
// started by ./bench/esdb.sh; see docs/eventstoredb.md ("Speed").
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

string? connection = Environment.GetEnvironmentVariable("STELLER_ESDB_CONNECTION");
double seconds = 5, warmup = 1;
int batch = 100, writers = 8;
var node = true;
string? nodeDir = null, outFile = null;
for (var i = 0; i < args.Length; i++)
{
    string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    switch (args[i])
    {
        case "--connection": connection = Value(); break;
        case "--seconds": seconds = double.Parse(Value()); break;
        case "--warmup-seconds": warmup = double.Parse(Value()); break;
        case "--batch": batch = int.Parse(Value()); break;
        case "--writers": writers = int.Parse(Value()); break;
        case "--no-node": node = false; break;
        case "--node-dir": nodeDir = Value(); break;
        case "--out": outFile = Value(); break;
        case "--help" or "-h":
            Console.WriteLine("""
                steller-bench-esdb [--connection esdb://...] [--seconds 5] [--warmup-seconds 1] [--batch 100] [--writers 8]
                                   [--no-node] [--node-dir bench/esdb-node] [--out results.md]
                The server is --connection or STELLER_ESDB_CONNECTION; with neither, nothing is measured (exit 0).
                """);
            return 0;
        default: Console.Error.WriteLine($"steller-bench-esdb: unknown option {args[i]} (see --help)"); return 2;
    }
}

if (string.IsNullOrWhiteSpace(connection))
{
    Console.WriteLine("steller-bench-esdb: no EventStoreDB server set (STELLER_ESDB_CONNECTION is empty and no --connection was given); "
        + "nothing measured.");
    Console.WriteLine("  Start one (e.g. docker compose -f eventstore.compose.yml up -d) and run:");
    Console.WriteLine("  STELLER_ESDB_CONNECTION='esdb://127.0.0.1:2113?tls=false' ./bench/esdb.sh");
    return 0;
}

// The payloads: the event store bench's cart events with Steller metadata, written once for the Node client too.
var templates = Payloads.StellerEvents(0, 3_000, Guid.NewGuid());
var payloadFile = Path.Combine(Path.GetTempPath(), $"steller-bench-esdb-{Environment.ProcessId}.json");
await File.WriteAllTextAsync(payloadFile, JsonSerializer.Serialize(templates.Select(t => new
{
    type = t.Type,
    data = Encoding.UTF8.GetString(t.Data.Span),
    metadata = Encoding.UTF8.GetString(EventMetadataJson.Serialize(t.Metadata)),
})));
var next = 0L;
EventData Event() => templates[(int)(Interlocked.Increment(ref next) % templates.Length)] with { EventId = Guid.NewGuid() };

Console.WriteLine($"== EventStoreDB appends: Steller's adapter vs the official Node client ==");
Console.WriteLine($"server : {connection}");
Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}");
Console.WriteLine($"cases  : {seconds:0.#} s each after {warmup:0.#} s warm-up; single appends; batches of {batch}; {writers} writers, own streams");
Console.WriteLine($"events : {templates.Length:N0} payload templates, {templates.Average(t => t.Data.Length + EventMetadataJson.Serialize(t.Metadata).Length):0} bytes of data+metadata on average");

var results = new Dictionary<(string Client, string Case), Result>();
string[] cases = ["single", "batch", "writers"];
foreach (var (name, batchAppend) in new[] { ("Steller BatchAppend", true), ("Steller Append", false) })
{
    using var store = new EventStoreDbEventStore(connection, new EventStoreDbOptions { BatchAppend = batchAppend });
    foreach (var c in cases)
    {
        var stream = $"bench-esdb-steller-{c}-{Guid.NewGuid():N}";
        var (count, perAppend) = c switch { "single" => (1, 1), "batch" => (1, batch), _ => (writers, 1) };
        async Task<int> AppendOnce(int w)
        {
            var events = new EventData[perAppend];
            for (var k = 0; k < perAppend; k++) events[k] = Event();
            await store.Append(c == "writers" ? $"{stream}-{w}" : stream, ExpectedRevision.Any, events);
            return perAppend;
        }
        await Run(count, warmup, AppendOnce);
        var r = await Run(count, seconds, AppendOnce);
        results[(name, c)] = r;
        Console.WriteLine($"  {name,-20} {c,-8} {r.EventsPerSecond,10:N0} events/s  ({r.Appends:N0} appends)");
    }
}

const string NodeName = "official Node client";
var nodeClient = "-";
if (node)
{
    var dir = nodeDir ?? FindNodeDir();
    if (dir is null) Console.WriteLine("  (the Node client was not run: bench/esdb-node not found; pass --node-dir)");
    else
    {
        var (output, error, code) = await RunNode(dir, connection, payloadFile, seconds, warmup, batch, writers);
        var last = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "{}";
        using var json = JsonDocument.Parse(last);
        if (code != 0 || !json.RootElement.TryGetProperty("results", out var rows))
            Console.WriteLine($"  (the Node client failed, exit {code}: {error.Trim()} {last})");
        else
        {
            nodeClient = json.RootElement.GetProperty("client").GetString() ?? "?";
            foreach (var row in rows.EnumerateArray())
            {
                var r = new Result(row.GetProperty("events").GetInt64(), row.GetProperty("appends").GetInt64(),
                    TimeSpan.FromSeconds(row.GetProperty("seconds").GetDouble()));
                results[(NodeName, row.GetProperty("case").GetString()!)] = r;
                Console.WriteLine($"  {NodeName,-20} {row.GetProperty("case").GetString(),-8} {r.EventsPerSecond,10:N0} events/s  ({r.Appends:N0} appends)");
            }
        }
    }
}
File.Delete(payloadFile);

var table = new StringBuilder();
table.AppendLine($"| case | Steller (BatchAppend) | Steller (Append) | {NodeName} ({nodeClient}) | Steller / Node | goal |");
table.AppendLine("| --- | ---: | ---: | ---: | ---: | --- |");
foreach (var c in cases)
{
    string Rate(string client) => results.TryGetValue((client, c), out var r) ? $"{r.EventsPerSecond:N0}" : "-";
    var ratio = results.TryGetValue(("Steller BatchAppend", c), out var s) && results.TryGetValue((NodeName, c), out var n) && n.EventsPerSecond > 0
        ? $"{s.EventsPerSecond / n.EventsPerSecond:0.00}x" : "-";
    var label = c switch { "single" => "single-event appends, sequential", "batch" => $"{batch}-event batches, sequential", _ => $"{writers} writers, own streams" };
    table.AppendLine($"| {label} | {Rate("Steller BatchAppend")} | {Rate("Steller Append")} | {Rate(NodeName)} | {ratio} | {(c == "single" ? ">= 1.0x" : ">= 1.1x")} |");
}
Console.WriteLine();
Console.WriteLine("events/s:");
Console.WriteLine(table);
if (outFile is not null) await File.AppendAllTextAsync(outFile, $"## EventStoreDB appends, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC ({connection})\n\n{table}\n");
return 0;

static async Task<Result> Run(int writers, double seconds, Func<int, Task<int>> appendOnce)
{
    var until = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
    long events = 0, appends = 0;
    var clock = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
    {
        while (Stopwatch.GetTimestamp() < until)
        {
            Interlocked.Add(ref events, await appendOnce(w));
            Interlocked.Increment(ref appends);
        }
    })));
    return new Result(events, appends, clock.Elapsed);
}

static string? FindNodeDir()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        var candidate = Path.Combine(dir.FullName, "bench", "esdb-node");
        if (File.Exists(Path.Combine(candidate, "bench.mjs"))) return candidate;
    }
    return null;
}

static async Task<(string Output, string Error, int Code)> RunNode(string dir, string connection, string payloads, double seconds,
    double warmup, int batch, int writers)
{
    var start = new ProcessStartInfo("node")
    {
        WorkingDirectory = dir,
        RedirectStandardOutput = true,
        RedirectStandardError = true,
        ArgumentList = { "bench.mjs", "--connection", connection, "--payloads", payloads, "--seconds", $"{seconds}",
            "--warmup-seconds", $"{warmup}", "--batch", $"{batch}", "--writers", $"{writers}" },
    };
    using var process = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
    var output = process.StandardOutput.ReadToEndAsync();
    var error = process.StandardError.ReadToEndAsync();
    await process.WaitForExitAsync();
    return (await output, await error, process.ExitCode);
}

internal sealed record Result(long Events, long Appends, TimeSpan Elapsed)
{
    public double EventsPerSecond => Events / Elapsed.TotalSeconds;
}
