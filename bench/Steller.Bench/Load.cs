using System.Diagnostics;

namespace Steller.Bench;

// The work every store under test does in the same way: time-boxed appends, the seed, rounds with the order swapped,
// and the throughput they add up to. Kept apart from Program.cs (PostgreSQL set-up and the report) so the EventStoreDB
// tests can run these very cases against the in-process fake server.

public sealed record Throughput(long Operations, long Events, TimeSpan Elapsed, double[]? LatencyMs)
{
    public double EventsPerSecond => Events / Math.Max(Elapsed.TotalSeconds, 1e-9);
    public double OperationsPerSecond => Operations / Math.Max(Elapsed.TotalSeconds, 1e-9);

    public string Detail => LatencyMs is not { Length: > 0 } l
        ? $"{Events:N0} events in {Elapsed.TotalSeconds:0.0} s"
        : $"{OperationsPerSecond:N0} appends/s, p50 {Percentile(l, 0.50):0.00} ms, p99 {Percentile(l, 0.99):0.00} ms";

    /// <summary>All rounds together: total work over total time, latency percentiles over every append.</summary>
    public static Throughput Sum(IReadOnlyList<Throughput> runs) => new(
        runs.Sum(r => r.Operations), runs.Sum(r => r.Events), TimeSpan.FromTicks(runs.Sum(r => r.Elapsed.Ticks)),
        runs.All(r => r.LatencyMs is null) ? null : runs.SelectMany(r => r.LatencyMs ?? []).Order().ToArray());

    private static double Percentile(double[] sorted, double p) => sorted[Math.Min(sorted.Length - 1, Math.Max(0, (int)Math.Ceiling(p * sorted.Length) - 1))];
}

public static class Rounds
{
    /// <summary>Runs <paramref name="work"/> on every store, <paramref name="rounds"/> times, swapping the order each round; sums per store.</summary>
    public static async Task<Dictionary<string, Throughput>> Run(IStoreUnderTest[] stores, int rounds, Func<IStoreUnderTest, Task<Throughput>> work)
    {
        var runs = stores.ToDictionary(s => s.Name, _ => new List<Throughput>());
        for (var round = 0; round < rounds; round++)
        {
            var order = round % 2 == 0 ? stores : stores.Reverse().ToArray();
            foreach (var s in order)
            {
                var t = await work(s);
                runs[s.Name].Add(t);
                Console.WriteLine($"  round {round + 1}  {s.Name,-8} {t.EventsPerSecond,12:N0} events/s  {t.Detail}");
            }
        }
        return runs.ToDictionary(kv => kv.Key, kv => Throughput.Sum(kv.Value));
    }
}

public static class Load
{
    private static int runs;

    /// <summary>
    /// Writes <paramref name="events"/> events to fresh streams of <paramref name="perStream"/> events, <paramref name="streamsPerTx"/>
    /// streams per transaction, with <paramref name="writers"/> concurrent writers.
    /// </summary>
    public static async Task<Throughput> Seed(IStoreUnderTest store, long events, int perStream, int streamsPerTx, int writers)
    {
        long next = -1;
        var streams = (events + perStream - 1) / perStream;
        var transactions = (streams + streamsPerTx - 1) / streamsPerTx;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, writers).Select(_ => Task.Run(async () =>
        {
            long t;
            while ((t = Interlocked.Increment(ref next)) < transactions)
            {
                var appends = new List<(string, long, int)>(streamsPerTx);
                for (var k = t * streamsPerTx; k < Math.Min(streams, (t + 1) * streamsPerTx); k++)
                    appends.Add(($"seed-{k}", k * perStream, (int)Math.Min(perStream, events - k * perStream)));
                await store.AppendMany(appends);
            }
        })));
        return new Throughput(transactions, events, clock.Elapsed, null);
    }

    /// <summary>
    /// Each writer appends <paramref name="batch"/> events per append until <paramref name="duration"/> is up. Single-event
    /// writers cycle over 100 streams of their own (so streams exist and grow, as under commands); batch writers start a
    /// new stream per append (as an import would).
    /// </summary>
    public static async Task<Throughput> Timed(IStoreUnderTest store, int writers, int batch, TimeSpan duration, string tag)
    {
        var run = Interlocked.Increment(ref runs);
        var latencies = new List<double>[writers];
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            var mine = latencies[w] = new List<double>(4096);
            long n = 0;
            while (clock.Elapsed < duration)
            {
                var stream = batch == 1 ? $"{tag}{run}-w{w}-s{n % 100}" : $"{tag}{run}-w{w}-b{n}";
                var started = Stopwatch.GetTimestamp();
                await store.Append(stream, n * batch, batch);
                mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                n++;
            }
        })));
        var elapsed = clock.Elapsed;
        var all = latencies.SelectMany(l => l).Order().ToArray();
        return new Throughput(all.Length, (long)all.Length * batch, elapsed, all);
    }
}
