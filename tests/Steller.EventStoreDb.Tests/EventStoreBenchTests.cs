using FluentAssertions;
using NUnit.Framework;
using Steller.Bench;
using Steller.Testing;

namespace Steller.EventStoreDb.Tests;

/// <summary>
/// The event-store bench's EventStoreDB column (bench/Steller.Bench: <see cref="EventStoreDbStore"/> driven by the same
/// <see cref="Load"/> cases as PostgreSQL and Marten), run in-process against the fake server at tiny sizes: every count
/// a case reports is what the server holds. This checks the code path only; figures against the fake are not
/// EventStoreDB figures and are not recorded anywhere.
/// </summary>
public sealed class EventStoreBenchTests : OnFakeServer
{
    [Test, CancelAfter(120_000)]
    public async Task each_bench_case_on_eventstoredb_reports_exactly_the_events_the_server_holds()
    {
        await using var readModels = await TestDatabase.Create("benchesdb", migrate: false);
        await using var bench = await EventStoreDbStore.Create(server.ConnectionString, readModels.ConnectionString, rebuildBatchSize: 50);

        await bench.WarmUp(); // 20 appends of 1-3 events to 4 streams, a read and a rebuild
        HeldBy(bench).Should().Be(39);
        (await bench.EventCount()).Should().Be(39);

        var seed = await Load.Seed(bench, events: 205, perStream: 10, streamsPerTx: 3, writers: 2);
        seed.Events.Should().Be(205);
        seed.Operations.Should().Be(7, "21 streams, 3 per transaction on PostgreSQL: 7 calls of AppendMany");
        HeldBy(bench).Should().Be(39 + 205);
        server.Log.Stream($"{bench.RunPrefix}seed-20")!.Count.Should().Be(5, "the last seeded stream holds the remaining 5 events");

        (await bench.ReadAll(pageSize: 50, maxEvents: long.MaxValue)).Should().Be(244, "ReadAll pages through the run's whole log");
        (await bench.ReadAll(pageSize: 50, maxEvents: 120)).Should().Be(120);

        await bench.Rebuild();
        (await bench.ReadModelTotals()).Should().Be((4L + 21L, 244L), "one read model row per stream, counting every event");

        var single = await Load.Timed(bench, writers: 8, batch: 1, TimeSpan.FromMilliseconds(300), "m");
        var batches = await Load.Timed(bench, writers: 1, batch: 20, TimeSpan.FromMilliseconds(300), "m");
        single.Events.Should().BePositive();
        batches.Events.Should().Be(20 * batches.Operations).And.BePositive();
        HeldBy(bench).Should().Be(244 + single.Events + batches.Events);
        (await bench.EventCount()).Should().Be(244 + single.Events + batches.Events);
    }

    [Test, CancelAfter(120_000)]
    public async Task a_second_run_against_the_same_server_writes_and_reads_only_streams_of_its_own()
    {
        await using var firstReadModels = await TestDatabase.Create("benchesdb1", migrate: false);
        await using var secondReadModels = await TestDatabase.Create("benchesdb2", migrate: false);
        await using var first = await EventStoreDbStore.Create(server.ConnectionString, firstReadModels.ConnectionString, 50);
        await using var second = await EventStoreDbStore.Create(server.ConnectionString, secondReadModels.ConnectionString, 50);
        first.RunPrefix.Should().NotBe(second.RunPrefix);
        var before = server.Log.Count; // the fake starts with a few system events of its own

        await Load.Seed(first, events: 100, perStream: 10, streamsPerTx: 10, writers: 1);
        await Load.Seed(second, events: 30, perStream: 10, streamsPerTx: 10, writers: 1); // the same stream names, seed-0 .. seed-2

        server.Log.Count.Should().Be(before + 130);
        HeldBy(first).Should().Be(100);
        HeldBy(second).Should().Be(30);
        (await first.ReadAll(50, long.MaxValue)).Should().Be(100);
        (await second.ReadAll(50, long.MaxValue)).Should().Be(30);
        await second.Rebuild();
        (await second.ReadModelTotals()).Should().Be((3L, 30L));
    }

    private long HeldBy(EventStoreDbStore bench) =>
        server.Log.From(0).Count(r => r.Stream.StartsWith(bench.RunPrefix, StringComparison.Ordinal));
}
