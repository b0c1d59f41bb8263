using Steller.Application.Commands;
using Steller.Bench;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Steller.Application.EventStore;
using Steller.Application.Inventory;
using Steller.Application.Serialization;
using Steller.Domain.Inventory;
using Steller.Infrastructure.Postgres;

// Stock reservations through the stock command pipeline (AggregateCommands: load, decide, append, retry) on one PostgreSQL,
// side by side in one run:
//   hot     : 64 clients reserving on ONE sku at one location (every command contends for one stream)
//   spread  : 64 clients reserving over 1,000 skus
// Each client loops: reserve 1 unit under a new reservation id. Started by ./bench/inventory.sh; see docs/benchmarks.md.
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
string? admin = null;
var seconds = 8.0;
var clients = 64;
var rounds = 2;
var skus = 1_000;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--admin": admin = args[++i]; break;
        case "--seconds": seconds = double.Parse(args[++i]); break;
        case "--clients": clients = int.Parse(args[++i]); break;
        case "--rounds": rounds = int.Parse(args[++i]); break;
        case "--skus": skus = int.Parse(args[++i]); break;
        case "--mode": Console.WriteLine($"== stock reservations, mode '{args[++i]}' =="); break;
        default: Console.Error.WriteLine($"unknown option {args[i]}; options: --admin CS --seconds S --clients N --rounds N --skus N"); return 2;
    }
}
if (admin is null) { Console.Error.WriteLine("--admin connection string (to the postgres database) is required"); return 2; }

var cs = await BenchDatabase.Fresh(admin, "bench_inventory", maxPoolSize: 200);
await using var dataSource = NpgsqlDataSource.Create(cs);
await new Migrator(dataSource, NullLogger<Migrator>.Instance).Migrate();
await using var notifications = new LogNotifications(dataSource, NullLogger<LogNotifications>.Instance);
var store = new PostgresEventStore(dataSource, notifications);
var stock = new AggregateCommands<Stock, IStockCommand, IStockEvent>(Aggregates.StockItems, store, EventTypeRegistry.ForDomain(), NullLogger.Instance);
Console.WriteLine($"server  : {await BenchDatabase.Describe(dataSource)}");
Console.WriteLine($"machine : {Environment.ProcessorCount} cores; {clients} clients; {seconds:0.#} s per case; {rounds} round(s), order alternating; spread over {skus:N0} skus");

static EventMetadata Meta() => new("bench", "bench", Guid.NewGuid(), "bench", DateTimeOffset.UtcNow);

const string location = "wh-1";
async Task Stock(string sku)
{
    var outcome = await stock.Execute(Steller.Domain.Inventory.Stock.StreamName(sku, location), new ReceiveStock("bench-receipt", 1_000_000_000, 100, "EUR"), Meta());
    if (!outcome.Succeeded) throw new InvalidOperationException($"receipt for {sku} refused: {outcome.Error!.Code}");
}

const string hotSku = "hot";
var spread = Enumerable.Range(0, skus).Select(i => $"sku-{i}").ToArray();
await Stock(hotSku);
foreach (var chunk in spread.Chunk(50)) await Task.WhenAll(chunk.Select(Stock));

async Task<Result> Run(string name, Func<int, string> pickSku)
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
            var sku = pickSku(random.Next());
            var id = $"{(name.StartsWith("hot") ? "h" : "s")}-{c}-{n++}-{Guid.NewGuid():N}";
            var t = Stopwatch.GetTimestamp();
            var ok = (await stock.Execute(Steller.Domain.Inventory.Stock.StreamName(sku, location), new ReserveStock(id, 1, $"order-{id}", null, DateTimeOffset.UtcNow), Meta())).Succeeded;
            mine.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
            if (!ok) Interlocked.Increment(ref failures);
        }
    })));
    var elapsed = stop.Elapsed.TotalSeconds;
    var all = latencies.SelectMany(l => l).Order().ToArray();
    return new Result(name, all.Length / elapsed, Percentile(all, 0.50), Percentile(all, 0.99), failures);
}

static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];

var cases = new (string Name, Func<int, string> Pick)[]
{
    ("hot (1 sku)", _ => hotSku),
    ($"spread ({skus:N0} skus)", r => spread[r % spread.Length]),
};
var results = new Dictionary<string, List<Result>>();
for (var round = 0; round < rounds; round++)
{
    foreach (var (name, pick) in round % 2 == 0 ? cases : cases.Reverse().ToArray())
    {
        var r = await Run(name, pick);
        (results.TryGetValue(name, out var list) ? list : results[name] = []).Add(r);
        Console.WriteLine($"  round {round + 1}: {r.Name,-24} {r.PerSecond,9:N0} reservations/s  p50 {r.P50,7:0.00} ms  p99 {r.P99,8:0.00} ms  failures {r.Failures}");
    }
}

Console.WriteLine();
Console.WriteLine("| case | reservations/s | p50 ms | p99 ms | failures |");
Console.WriteLine("|---|---:|---:|---:|---:|");
foreach (var (name, _) in cases)
{
    var list = results[name];
    Console.WriteLine($"| {name} | {list.Average(r => r.PerSecond):N0} | {list.Average(r => r.P50):0.00} | {list.Average(r => r.P99):0.00} | {list.Sum(r => r.Failures)} |");
}
var hot = results[cases[0].Name].Average(r => r.PerSecond);
var spreadRate = results[cases[1].Name].Average(r => r.PerSecond);
Console.WriteLine();
Console.WriteLine($"hot/spread throughput ratio: {hot / spreadRate:0.00}");
return 0;

internal sealed record Result(string Name, double PerSecond, double P50, double P99, int Failures);
