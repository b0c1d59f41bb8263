using System.Diagnostics;
using NUnit.Framework;
using Steller.Application.EventStore;
using Steller.EventStoreDb.Tests.Fake;
using Steller.Infrastructure.EventStoreDb;
using Steller.Testing;

namespace Steller.EventStoreDb.Tests;

/// <summary>
/// The adapter over BatchAppend against over unary Append, both against the in-process fake server: what one call per
/// append costs the client and the HTTP/2 stack. Explicit (prints figures, asserts nothing): run with
/// <c>dotnet test tests/Steller.EventStoreDb.Tests -c Release --filter "FullyQualifiedName~BatchAppendSpeedTests" --logger "console;verbosity=detailed"</c>.
/// The fake is NOT a speed reference for EventStoreDB (no disk, no commit pipeline): ./bench/esdb.sh against a real server is.
/// </summary>
[Explicit("a measurement, not a test: prints figures")]
public sealed class BatchAppendSpeedTests : OnFakeServer
{
    [Test]
    public async Task batch_append_against_unary_append_on_the_fake_server()
    {
        var seconds = TimeSpan.FromSeconds(3);
        foreach (var writers in new[] { 1, 8 })
        {
            var rates = new Dictionary<bool, double>();
            foreach (var batchAppend in new[] { true, false, true, false })
            {
                using var store = new EventStoreDbEventStore(server.ConnectionString, new EventStoreDbOptions { BatchAppend = batchAppend });
                var stream = Events.Stream();
                await Measure(store, stream, writers, TimeSpan.FromMilliseconds(500)); // warm-up
                var rate = await Measure(store, stream, writers, seconds);
                rates[batchAppend] = Math.Max(rates.GetValueOrDefault(batchAppend), rate);
            }
            TestContext.Out.WriteLine($"{writers} writer(s), single-event appends: BatchAppend {rates[true]:N0}/s, Append {rates[false]:N0}/s, "
                + $"ratio {rates[true] / rates[false]:0.00}x (best of 2 each; fake server, not a speed reference)");
        }
    }

    private static async Task<double> Measure(EventStoreDbEventStore store, string stream, int writers, TimeSpan duration)
    {
        var until = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        long appends = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            while (Stopwatch.GetTimestamp() < until)
            {
                await store.Append($"{stream}-{w}", ExpectedRevision.Any, [Events.Make()]);
                Interlocked.Increment(ref appends);
            }
        })));
        return appends / clock.Elapsed.TotalSeconds;
    }
}
