using Steller.Bench;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Application.Serialization;
using Steller.Domain;
using Steller.Domain.Wallets;
using Steller.Infrastructure.Postgres;

// Holds + captures through the wallet command pipeline on one PostgreSQL, side by side in one run:
//   hot     : 64 clients on ONE wallet (the pipeline serialises and batches per wallet)
//   spread  : 64 clients over 1,000 wallets
//   naive   : 64 clients on one wallet with plain load-decide-append and retry on conflict (what the pipeline avoids)
// Each client loops: place a hold of 1, capture it. Started by ./bench/wallets.sh; see docs/benchmarks.md.
// With --cold-start N instead: one wallet stream of N events, then the first command after a restart (a new
// AggregateCommands, nothing cached) with snapshots off and on, side by side (ColdStart.cs).
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
string? admin = null;
var seconds = 10.0;
var clients = 64;
var rounds = 2;
long? coldStart = null;
var rawConnection = false; // --raw-connection: Npgsql's defaults and a pool of 200, as this bench ran before 2026-12-03
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--admin": admin = args[++i]; break;
        case "--seconds": seconds = double.Parse(args[++i]); break;
        case "--clients": clients = int.Parse(args[++i]); break;
        case "--rounds": rounds = int.Parse(args[++i]); break;
        case "--cold-start": coldStart = long.Parse(args[++i]); break;
        case "--raw-connection": rawConnection = true; break;
        case "--mode": Console.WriteLine($"== wallet pipeline, mode '{args[++i]}' =="); break;
        default: Console.Error.WriteLine($"unknown option {args[i]}; options: --admin CS --seconds S --clients N --rounds N --cold-start EVENTS --raw-connection"); return 2;
    }
}
if (admin is null) { Console.Error.WriteLine("--admin connection string (to the postgres database) is required"); return 2; }

// The connection a Steller node uses (StorageRegistration.PooledConnectionString: no DISCARD ALL on a returned
// connection, automatic preparation, a pool of 30), unless --raw-connection asks for Npgsql's defaults. With those, every
// return of a connection to the pool ran DISCARD ALL, which throws away the session's plans, so the append functions'
// statements were parsed and planned again on every command (12.5 % of the machine's CPU in the spread case).
var cs = rawConnection
    ? await BenchDatabase.Fresh(admin, "bench_wallets", maxPoolSize: 200)
    : Steller.Infrastructure.StorageRegistration.PooledConnectionString(await BenchDatabase.Fresh(admin, "bench_wallets"));
await using var dataSource = NpgsqlDataSource.Create(cs);
await new Migrator(dataSource, NullLogger<Migrator>.Instance).Migrate();
await using var notifications = new LogNotifications(dataSource, NullLogger<LogNotifications>.Instance);
var store = new PostgresEventStore(dataSource, notifications);
var registry = EventTypeRegistry.ForDomain();
if (coldStart is { } coldEvents)
{
    Console.WriteLine($"server  : {await BenchDatabase.Describe(dataSource)}");
    return await ColdStart.Run(dataSource, store, registry, coldEvents, rounds);
}
var wallets = new AggregateCommands<Wallet, IWalletCommand, IWalletEvent>(Aggregates.Wallets, store, registry, NullLogger.Instance);
Console.WriteLine($"server  : {await BenchDatabase.Describe(dataSource)}");
Console.WriteLine($"machine : {Environment.ProcessorCount} cores; {clients} clients; {seconds:0.#} s per case; {rounds} round(s), order alternating; "
    + (rawConnection ? "raw connection (Npgsql defaults, pool 200)" : "Steller's pooled connection (no reset on close, auto prepare, pool 30)"));

static EventMetadata Meta() => new("bench", "bench", Guid.NewGuid(), "bench", DateTimeOffset.UtcNow);

async Task Fund(string partner)
{
    await wallets.Execute(Wallet.StreamName(partner, "EUR"), new OpenWallet(partner, "EUR"), Meta());
    await wallets.Execute(Wallet.StreamName(partner, "EUR"), new Deposit($"fund-{partner}", 1_000_000_000, "bench"), Meta());
}

var hotPartner = "hot";
var naivePartner = "naive";
var spread = Enumerable.Range(0, 1_000).Select(i => $"w{i}").ToArray();
await Fund(hotPartner);
await Fund(naivePartner);
foreach (var chunk in spread.Chunk(50)) await Task.WhenAll(chunk.Select(Fund));

// The naive way: read the whole stream, decide, append at the revision read; on conflict, start over.
async Task<bool> Naive(string partner, IWalletCommand command)
{
    var stream = Wallet.StreamName(partner, "EUR");
    for (var attempt = 0; attempt < 1_000; attempt++)
    {
        var slice = await store.ReadStream(stream);
        var state = slice.Events.Aggregate(Wallet.Empty, (s, e) => Wallet.Evolve(s, (IWalletEvent)registry.Deserialize(e.Type, e.Data.Span)!));
        var decision = Wallet.Decide(command, state);
        if (decision.Failed || decision.IsNoOp) return !decision.Failed;
        try
        {
            await store.Append(stream, ExpectedRevision.After(slice.LastRevision),
                decision.Events.Select(e => new EventData(Guid.NewGuid(), registry.NameOf(e.GetType()), registry.Serialize(e), Meta())).ToList());
            return true;
        }
        catch (WrongExpectedRevisionException) { }
    }
    return false;
}

async Task<Result> Run(string name, Func<int, string> pickWallet, bool naive)
{
    var latencies = new List<double>[clients];
    var failures = 0;
    var stop = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
    {
        var mine = latencies[c] = new List<double>(100_000);
        var random = new Random(c);
        var n = 0;
        while (stop.Elapsed.TotalSeconds < seconds)
        {
            var partner = pickWallet(random.Next());
            var id = $"{name}-{c}-{n++}-{Guid.NewGuid():N}";
            foreach (IWalletCommand command in new IWalletCommand[] { new PlaceHold(id, 1, null, null, DateTimeOffset.UtcNow), new CaptureHold(id, 1, null) })
            {
                var t = Stopwatch.GetTimestamp();
                var ok = naive ? await Naive(partner, command) : (await wallets.Execute(Wallet.StreamName(partner, "EUR"), command, Meta())).Succeeded;
                mine.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
                if (!ok) Interlocked.Increment(ref failures);
            }
        }
    })));
    var elapsed = stop.Elapsed.TotalSeconds;
    var all = latencies.SelectMany(l => l).Order().ToArray();
    return new Result(name, all.Length / 2 / elapsed, Percentile(all, 0.50), Percentile(all, 0.99), failures);
}

static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];

var cases = new (string Name, Func<int, string> Pick, bool Naive)[]
{
    ("hot (1 wallet)", _ => hotPartner, false),
    ("spread (1,000 wallets)", r => spread[r % spread.Length], false),
    ("naive hot (1 wallet, load-decide-append-retry)", _ => naivePartner, true),
};
var results = new Dictionary<string, List<Result>>();
for (var round = 0; round < rounds; round++)
{
    foreach (var (name, pick, naive) in round % 2 == 0 ? cases : cases.Reverse().ToArray())
    {
        var r = await Run(name, pick, naive);
        (results.TryGetValue(name, out var list) ? list : results[name] = []).Add(r);
        Console.WriteLine($"  round {round + 1}: {r.Name,-48} {r.PairsPerSecond,9:N0} holds+captures/s  p50 {r.P50,7:0.00} ms  p99 {r.P99,8:0.00} ms  failures {r.Failures}");
    }
}

Console.WriteLine();
Console.WriteLine("| case | holds+captures/s | p50 ms | p99 ms | vs hot |");
Console.WriteLine("|---|---:|---:|---:|---:|");
var hot = results[cases[0].Name].Average(r => r.PairsPerSecond);
foreach (var (name, _, _) in cases)
{
    var list = results[name];
    var rate = list.Average(r => r.PairsPerSecond);
    Console.WriteLine($"| {name} | {rate:N0} | {list.Average(r => r.P50):0.00} | {list.Average(r => r.P99):0.00} | {rate / hot:0.00} |");
}
return 0;

internal sealed record Result(string Name, double PairsPerSecond, double P50, double P99, int Failures);
