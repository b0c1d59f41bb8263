using System.Diagnostics;
using System.Globalization;
using System.Text;
using Npgsql;
using Steller.Bench;
using Steller.Infrastructure.EventStoreDb;

// Side-by-side benchmark of Steller's event store and projection engine against Marten's, on one PostgreSQL.
// Usually started by ./bench/run.sh, which provisions the server; see docs/benchmarks.md.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

BenchOptions options;
try { options = BenchOptions.Parse(args); }
catch (ArgumentException e)
{
    Console.Error.WriteLine($"steller-bench: {e.Message}");
    Console.Error.WriteLine(BenchOptions.Usage);
    return 2;
}
if (options.Help) { Console.WriteLine(BenchOptions.Usage); return 0; }

var results = new List<Row>();
var total = Stopwatch.StartNew();
var server = await ServerInfo.Read(options.Admin);
Console.WriteLine($"== Steller vs Marten, mode '{options.Mode}' ==");
Console.WriteLine($"machine : {Machine.Describe()}");
Console.WriteLine($"server  : {server.Version}");
Console.WriteLine($"settings: {server.Settings}");
Console.WriteLine($"sizes   : rebuild over {options.Events:N0} seeded events ({options.EventsPerStream} per stream, {options.SeedWriters} seed writers); ReadAll {options.ReadEvents:N0} events; " +
                  $"appends {options.AppendSeconds:0.#} s x {options.Rounds} round(s) per case; ReadAll page {options.ReadPage}; Steller rebuild batch {options.RebuildBatch}");

var stellerCs = await Databases.Recreate(options.Admin, "bench_steller");
var martenCs = await Databases.Recreate(options.Admin, "bench_marten");
await using var steller = await StellerStore.Create(stellerCs, options.RebuildBatch);
await using var marten = await MartenStore.Create(martenCs);
// Steller on EventStoreDB, only when a server is given: its rebuild's read model goes to a third database of this cluster.
await using var esdb = options.Esdb is { } esdbConnection
    ? await EventStoreDbStore.Create(esdbConnection, await Databases.Recreate(options.Admin, "bench_steller_esdb"), options.RebuildBatch)
    : null;
IStoreUnderTest[] stores = esdb is null ? [steller, marten] : [steller, marten, esdb];
if (esdb is not null)
    Console.WriteLine($"esdb    : Steller's EventStoreDB adapter on {esdb.Server}, streams prefixed {esdb.RunPrefix}; its rebuild writes to PostgreSQL bench_steller_esdb");

Phase("warm-up (connections, JIT, Marten's code generation)");
foreach (var s in stores) await s.WarmUp();

// 1. Seed the rebuild data set through each store's own append path (not interleaved: one store after the other).
Phase($"seed: {options.Events:N0} events in streams of {options.EventsPerStream}, {options.SeedStreamsPerTx} streams per transaction, {options.SeedWriters} writers");
var seed = new Dictionary<string, Throughput>();
foreach (var s in stores)
{
    var t = await Load.Seed(s, options.Events, options.EventsPerStream, options.SeedStreamsPerTx, options.SeedWriters);
    seed[s.Name] = t;
    Console.WriteLine($"  {s.Name,-8} {t.EventsPerSecond,12:N0} events/s  ({t.Operations:N0} transactions in {t.Elapsed.TotalSeconds:0.0} s)");
}
results.Add(Row.Of("seed (bulk, new streams)", $"{options.SeedStreamsPerTx} streams x {options.EventsPerStream} events per transaction, {options.SeedWriters} writers", "events/s",
    seed["Steller"].EventsPerSecond, seed["Marten"].EventsPerSecond) with
{
    EsdbNotApplicable = esdb is null ? null
        : $"EventStoreDB has no transaction across streams; it was seeded with one append per stream instead, {seed[esdb.Name].EventsPerSecond:N0} events/s, not comparable",
});

// A freshly loaded table has no statistics until autovacuum gets round to it (a minute or more); Marten's rebuild
// query in particular plans a full range scan per page on stale statistics. Measure both in the steady state.
Phase("vacuum analyze both databases (not timed)");
await Databases.VacuumAnalyze(stellerCs);
await Databases.VacuumAnalyze(martenCs);

// 2. ReadAll over the whole log, alternating which store goes first.
Phase($"ReadAll: first {options.ReadEvents:N0} events of the log in pages of {options.ReadPage}");
var reads = await Rounds.Run(stores, options.Rounds, async s =>
{
    var clock = Stopwatch.StartNew();
    var expected = Math.Min(options.ReadEvents, await s.EventCount());
    var n = await s.ReadAll(options.ReadPage, options.ReadEvents);
    if (n != expected) Console.WriteLine($"    {s.Name}: ReadAll returned {n:N0} of {expected:N0} events\n{await Databases.Diagnose(options.Admin)}");
    return new Throughput(n, n, clock.Elapsed, null);
});
results.Add(Row.Of("ReadAll", $"{reads["Steller"].Events / options.Rounds:N0} events from the start, page {options.ReadPage}, {options.Rounds} round(s)", "events/s",
    reads["Steller"].EventsPerSecond, reads["Marten"].EventsPerSecond) with { Esdb = EsdbRate(reads) });

// 3. Rebuild the per-stream statistics read model from the first event.
Phase("projection rebuild: per-stream event count + last revision");
var rebuilds = await Rounds.Run(stores, options.RebuildRounds, async s =>
{
    var events = await s.EventCount();
    var clock = Stopwatch.StartNew();
    await s.Rebuild();
    var elapsed = clock.Elapsed;
    var (streams, counted) = await s.ReadModelTotals();
    var check = counted == events ? "ok" : $"MISMATCH: read model counts {counted:N0}";
    Console.WriteLine($"    {s.Name}: {events:N0} events -> {streams:N0} stream rows, {check}");
    if (counted != events)
    {
        Console.WriteLine(await Databases.Diagnose(options.Admin));
        if (Environment.GetEnvironmentVariable("STELLER_BENCH_PAUSE") == "1") { Console.WriteLine("paused; press enter"); Console.ReadLine(); }
    }
    if (counted != events) throw new InvalidOperationException($"{s.Name} rebuild saw {counted} of {events} events.");
    return new Throughput(events, events, elapsed, null);
});
results.Add(Row.Of("projection rebuild", $"{rebuilds["Steller"].Events / options.RebuildRounds:N0} events, stream_stats read model", "events/s",
    rebuilds["Steller"].EventsPerSecond, rebuilds["Marten"].EventsPerSecond) with { Esdb = EsdbRate(rebuilds) });

// 4. Appends, time-boxed, alternating which store goes first in each round.
var cases = new (string Name, int Writers, int Batch)[]
{
    ("append 1 event, 1 writer", 1, 1),
    ("append 1 event, 8 writers", 8, 1),
    ($"append {options.BatchSize}-event batch, 1 writer", 1, options.BatchSize),
};
foreach (var (name, writers, batch) in cases)
{
    Phase($"{name} ({options.AppendSeconds:0.#} s per run)");
    foreach (var s in stores) await Load.Timed(s, writers, batch, TimeSpan.FromSeconds(Math.Min(1, options.AppendSeconds)), "w"); // warm-up
    var r = await Rounds.Run(stores, options.Rounds, s => Load.Timed(s, writers, batch, TimeSpan.FromSeconds(options.AppendSeconds), "m"));
    results.Add(Row.Of(name, $"Steller {r["Steller"].Detail}; Marten {r["Marten"].Detail}{(esdb is null ? "" : $"; ESDB {r[esdb.Name].Detail}")}", "events/s",
        r["Steller"].EventsPerSecond, r["Marten"].EventsPerSecond) with { Esdb = EsdbRate(r) });
}

var notes = new List<string>();
if (esdb is null)
    notes.Add($"ESDB: not measured (no EventStoreDB server given). To add Steller on EventStoreDB to every case: {EventStoreDbStore.Variable}='esdb://127.0.0.1:2113?tls=false' ./bench/run.sh (or --esdb CONNECTION).");
else
{
    notes.Add($"ESDB: Steller's EventStoreDbEventStore on {esdb.Server} (streams prefixed {esdb.RunPrefix}), the rebuild reading from it into PostgreSQL; " +
              "ESDB/Steller > 1 means Steller on EventStoreDB is faster than Steller on PostgreSQL.");
    foreach (var row in results.Where(r => r.EsdbNotApplicable is not null)) notes.Add($"ESDB n/a for {row.Measure}: {row.EsdbNotApplicable}.");
}

// Report.
Console.WriteLine();
Console.WriteLine($"== results, mode '{options.Mode}' ({server.Settings}) ==");
Console.WriteLine($"{"measure",-34} {"Steller",14} {"Marten",14} {"Steller/Marten",15}{(esdb is null ? "" : $" {"ESDB",14} {"ESDB/Steller",13}")}");
foreach (var row in results)
    Console.WriteLine($"{row.Measure,-34} {row.Steller,14:N0} {row.Marten,14:N0} {row.Ratio,15:0.00}x" +
                      (esdb is null ? "" : row.Esdb is { } e ? $" {e,14:N0} {row.EsdbRatio,12:0.00}x" : $" {"n/a",14} {"n/a",13}"));
Console.WriteLine($"(throughput in events/s; ratio > 1 means Steller is faster; total {total.Elapsed.TotalMinutes:0.0} min; load average now {Machine.LoadAverage()})");
foreach (var note in notes) Console.WriteLine(note);

if (options.Out is { } outFile)
{
    var md = new StringBuilder();
    md.AppendLine($"### {options.Mode}: {server.Settings}");
    md.AppendLine();
    md.AppendLine($"{server.Version}; {Machine.Describe()}; rebuild over {options.Events:N0} seeded events ({options.EventsPerStream} per stream); " +
                  $"appends {options.AppendSeconds:0.#} s x {options.Rounds} round(s); run took {total.Elapsed.TotalMinutes:0.0} min, load average at the end {Machine.LoadAverage()}.");
    md.AppendLine();
    if (esdb is null)
    {
        md.AppendLine("| measure | Steller (events/s) | Marten (events/s) | Steller / Marten | detail |");
        md.AppendLine("| --- | ---: | ---: | ---: | --- |");
        foreach (var row in results)
            md.AppendLine($"| {row.Measure} | {row.Steller:N0} | {row.Marten:N0} | {row.Ratio:0.00} | {row.Detail} |");
    }
    else
    {
        md.AppendLine("| measure | Steller (events/s) | Marten (events/s) | Steller / Marten | ESDB (events/s) | ESDB / Steller | detail |");
        md.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | --- |");
        foreach (var row in results)
            md.AppendLine($"| {row.Measure} | {row.Steller:N0} | {row.Marten:N0} | {row.Ratio:0.00} | " +
                          (row.Esdb is { } e ? $"{e:N0} | {row.EsdbRatio:0.00}" : "n/a | n/a") + $" | {row.Detail} |");
    }
    md.AppendLine();
    foreach (var note in notes) md.AppendLine(note).AppendLine();
    await File.AppendAllTextAsync(outFile, md.ToString());
}

if (!options.Keep)
{
    NpgsqlConnection.ClearAllPools();
    await steller.DisposeAsync();
    await marten.DisposeAsync();
    await Databases.Drop(options.Admin, "bench_steller");
    await Databases.Drop(options.Admin, "bench_marten");
    if (esdb is not null)
    {
        await esdb.DisposeAsync();
        await Databases.Drop(options.Admin, "bench_steller_esdb");
    }
}
return 0;

static void Phase(string text) => Console.WriteLine($"-- {text}");

double? EsdbRate(Dictionary<string, Throughput> figures) => esdb is null ? null : figures[esdb.Name].EventsPerSecond;

public sealed record Row(string Measure, string Detail, string Unit, double Steller, double Marten)
{
    public double Ratio => Steller / Math.Max(Marten, 1e-9);

    /// <summary>Steller on EventStoreDB, when measured and the case applies to it.</summary>
    public double? Esdb { get; init; }

    /// <summary>Why the case does not apply to EventStoreDB (its cell reads n/a), when it was measured.</summary>
    public string? EsdbNotApplicable { get; init; }

    public double? EsdbRatio => Esdb / Math.Max(Steller, 1e-9);
    public static Row Of(string measure, string detail, string unit, double steller, double marten) => new(measure, detail, unit, steller, marten);
}

public static class Databases
{
    public static async Task<string> Recreate(string admin, string name)
    {
        await Drop(admin, name);
        await using (var conn = new NpgsqlConnection(admin))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand($"create database {name}", conn);
            await cmd.ExecuteNonQueryAsync();
        }
        return new NpgsqlConnectionStringBuilder(admin) { Database = name, MaxPoolSize = 100 }.ConnectionString;
    }

    /// <summary>Transactions holding the cluster's snapshot horizon (xmin) back: they hide newer events from gap-safe readers.</summary>
    public static async Task<string> Diagnose(string admin)
    {
        await using var conn = new NpgsqlConnection(admin);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("""
            select coalesce(string_agg(format('pid %s db %s xid %s xmin %s state %s since %s: %s', pid, datname, backend_xid, backend_xmin, state,
                   now() - xact_start, left(query, 200)), E'\n'), 'no transaction with an xid')
                   || E'\nsnapshot: ' || pg_current_snapshot()::text
              from pg_stat_activity where backend_xid is not null or backend_xmin is not null
            """, conn);
        return (string)(await cmd.ExecuteScalarAsync())!;
    }

    public static async Task VacuumAnalyze(string connectionString)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("vacuum analyze", conn) { CommandTimeout = 0 };
        await cmd.ExecuteNonQueryAsync();
    }

    public static async Task Drop(string admin, string name)
    {
        await using var conn = new NpgsqlConnection(admin);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand($"drop database if exists {name} with (force)", conn);
        await cmd.ExecuteNonQueryAsync();
    }
}

public sealed record ServerInfo(string Version, string Settings)
{
    public static async Task<ServerInfo> Read(string admin)
    {
        await using var conn = new NpgsqlConnection(admin);
        await conn.OpenAsync();
        async Task<string> Show(string setting)
        {
            await using var cmd = new NpgsqlCommand($"show {setting}", conn);
            return (string)(await cmd.ExecuteScalarAsync())!;
        }
        await using var v = new NpgsqlCommand("select version()", conn);
        var version = ((string)(await v.ExecuteScalarAsync())!).Split(" on ")[0];
        var settings = $"fsync={await Show("fsync")}, synchronous_commit={await Show("synchronous_commit")}, " +
                       $"full_page_writes={await Show("full_page_writes")}, shared_buffers={await Show("shared_buffers")}, max_wal_size={await Show("max_wal_size")}";
        return new ServerInfo(version, settings);
    }
}

public static class Machine
{
    public static string Describe()
    {
        var model = "unknown CPU";
        try
        {
            model = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name"))?.Split(':', 2)[1].Trim() ?? model;
        }
        catch (IOException) { }
        var memory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024.0 * 1024 * 1024);
        return $"{Environment.ProcessorCount} cores, {model}, {memory:0} GiB, .NET {Environment.Version}";
    }

    public static string LoadAverage()
    {
        try { return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (IOException) { return "?"; }
    }
}

public sealed record BenchOptions
{
    public string Admin { get; init; } = Environment.GetEnvironmentVariable("STELLER_BENCH_ADMIN") ?? "";
    public string Mode { get; init; } = "unnamed";
    public long Events { get; init; } = 1_000_000;
    public int EventsPerStream { get; init; } = 10;
    public int SeedWriters { get; init; } = 4;
    public int SeedStreamsPerTx { get; init; } = 10;
    public long ReadEvents { get; init; } = 250_000;
    public double AppendSeconds { get; init; } = 5;
    public int Rounds { get; init; } = 2;
    public int RebuildRounds { get; init; } = 2;
    public int BatchSize { get; init; } = 100;
    public int ReadPage { get; init; } = 1_000;
    public int RebuildBatch { get; init; } = 5_000;
    public string? Out { get; init; }
    /// <summary>EventStoreDB to measure beside PostgreSQL and Marten; none: not measured.</summary>
    public string? Esdb { get; init; } = Environment.GetEnvironmentVariable(EventStoreDbStore.Variable) is { Length: > 0 } cs ? cs : null;
    public bool Keep { get; init; }
    public bool Help { get; init; }

    public const string Usage = """
        usage: Steller.Bench --admin "Host=127.0.0.1;Port=55440;Username=steller;Database=postgres" [options]
          --mode NAME            label for the report (run.sh passes fast or durable)
          --events N             events seeded for ReadAll and the rebuild (default 1000000)
          --events-per-stream N  events per seeded stream (default 10)
          --seed-writers N       concurrent writers while seeding (default 4)
          --seed-streams-per-tx N  streams written per seeding transaction (default 10)
          --read-events N        events read from the start of the log per ReadAll run (default 250000)
          --append-seconds S     length of each timed append run (default 5)
          --rounds N             rounds of each append/ReadAll case, order swapped each round (default 2)
          --rebuild-rounds N     rounds of the rebuild, order swapped each round (default 2)
          --batch N              events per append in the batch case (default 100)
          --read-page N          ReadAll page size (default 1000)
          --rebuild-batch N      Steller's RebuildBatchSize (default 5000, the production default)
          --quick                small smoke run: --events 20000 --append-seconds 1 --rounds 1
          --out FILE             append a markdown results table to FILE
          --esdb CONNECTION      also measure Steller on this EventStoreDB (esdb://127.0.0.1:2113?tls=false) in every case that
                                 applies; default: STELLER_ESDB_CONNECTION, and without either EventStoreDB is not measured
          --keep                 keep the bench_steller / bench_marten databases afterwards
        """;

    public static BenchOptions Parse(string[] args)
    {
        // --quick only changes defaults: explicit sizes win wherever they stand.
        var o = args.Contains("--quick") ? new BenchOptions { Events = 20_000, AppendSeconds = 1, Rounds = 1 } : new BenchOptions();
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            long Long() { var a = args[i]; return long.TryParse(Next(), out var v) && v > 0 ? v : throw new ArgumentException($"{a} needs a positive whole number"); }
            o = args[i] switch
            {
                "--admin" => o with { Admin = Next() },
                "--mode" => o with { Mode = Next() },
                "--events" => o with { Events = Long() },
                "--events-per-stream" => o with { EventsPerStream = (int)Long() },
                "--seed-writers" => o with { SeedWriters = (int)Long() },
                "--seed-streams-per-tx" => o with { SeedStreamsPerTx = (int)Long() },
                "--read-events" => o with { ReadEvents = Long() },
                "--append-seconds" => o with { AppendSeconds = double.TryParse(Next(), CultureInfo.InvariantCulture, out var s) && s > 0 ? s : throw new ArgumentException("--append-seconds needs a positive number") },
                "--rounds" => o with { Rounds = (int)Long() },
                "--rebuild-rounds" => o with { RebuildRounds = (int)Long() },
                "--batch" => o with { BatchSize = (int)Long() },
                "--read-page" => o with { ReadPage = (int)Long() },
                "--rebuild-batch" => o with { RebuildBatch = (int)Long() },
                "--quick" => o,
                "--out" => o with { Out = Next() },
                "--esdb" => o with { Esdb = Next() },
                "--keep" => o with { Keep = true },
                "--help" or "-h" => o with { Help = true },
                _ => throw new ArgumentException($"unknown option {args[i]}"),
            };
        }
        if (!o.Help && string.IsNullOrWhiteSpace(o.Admin)) throw new ArgumentException("--admin (or STELLER_BENCH_ADMIN) is required");
        if (o.Esdb is { } esdb && !EventStoreDbConnectionString.TryParse(esdb, out _, out var error))
            throw new ArgumentException($"--esdb (or {EventStoreDbStore.Variable}): {error}");
        return o;
    }
}
