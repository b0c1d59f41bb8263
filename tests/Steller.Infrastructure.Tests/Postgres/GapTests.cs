using FluentAssertions;
using NUnit.Framework;
using Steller.Application.EventStore;
using Steller.Testing;

namespace Steller.Infrastructure.Tests.Postgres;

/// <summary>
/// The global log must never skip an event that commits late. 16 writers, random delays inside their transactions,
/// some rolled back, a subscriber following all along.
/// </summary>
public sealed class GapTests
{
    private const int Writers = 16;
    private const int EventsPerWriter = 2_000;

    [Test, CancelAfter(240_000)]
    public async Task the_subscriber_sees_every_committed_event_exactly_once_and_in_stream_order_under_sixteen_concurrent_writers(CancellationToken ct)
    {
        await using var db = await TestDatabase.Create("gap");
        var harness = new GapHarness(db, db.CreateEventStore());

        var writers = harness.Write(Writers, EventsPerWriter);
        var seen = await GapHarness.Follow(harness.Subscription(ct), writers, ct);

        var report = harness.Check(seen);
        TestContext.Out.WriteLine($"xid8 reader: {report}");
        report.Committed.Should().BeGreaterThanOrEqualTo(Writers * EventsPerWriter);
        harness.RolledBack.Should().NotBeEmpty("the workload must roll some transactions back");
        report.Clean.Should().BeTrue(report.ToString());
        report.Seen.Should().Be(report.Committed);
    }

    [Test, CancelAfter(240_000)]
    public async Task the_same_workload_catches_a_naive_position_reader_losing_events(CancellationToken ct)
    {
        await using var db = await TestDatabase.Create("gapnaive");
        var harness = new GapHarness(db, db.CreateEventStore());

        var writers = harness.Write(Writers, EventsPerWriter / 4);
        var seen = await GapHarness.Follow(new NaiveReader(db.DataSource).Follow(ct), writers, ct);

        var report = harness.Check(seen);
        TestContext.Out.WriteLine($"naive reader: {report}");
        report.Missing.Should().BeGreaterThan(0, "a reader that trusts 'position > last' skips identities committed late");
    }

    [Test]
    public async Task an_event_committed_after_a_later_position_is_seen_by_the_log_and_missed_by_a_naive_reader()
    {
        await using var db = await TestDatabase.Create("gapdirected");
        var store = db.CreateEventStore();
        var early = Events.Make("test.early.v1");
        var late = Events.Make("test.late.v1");

        // Transaction A takes the lower position and stays open.
        await using var connA = await db.DataSource.OpenConnectionAsync();
        await using var txA = await connA.BeginTransactionAsync();
        await store.AppendWithin(connA, txA, Events.Stream(), ExpectedRevision.NoStream, [early]);
        // B takes a higher position and commits first.
        await store.Append(Events.Stream(), ExpectedRevision.NoStream, [late]);

        (await store.ReadAll(LogPosition.Start, 100)).Should().BeEmpty("B is behind A, which is still running");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var naive = new NaiveReader(db.DataSource).Follow(cts.Token).GetAsyncEnumerator(cts.Token);
        (await naive.MoveNextAsync()).Should().BeTrue();
        naive.Current.EventId.Should().Be(late.EventId, "the naive reader takes B and moves past A's position");

        await txA.CommitAsync();

        (await store.ReadAll(LogPosition.Start, 100)).Select(e => e.EventId).Should().Equal(early.EventId, late.EventId);
        cts.CancelAfter(TimeSpan.FromMilliseconds(500));
        var more = new List<GapHarness.Seen>();
        try { while (await naive.MoveNextAsync()) more.Add(naive.Current); } catch (OperationCanceledException) { }
        more.Should().BeEmpty("A's row sits below the position the naive reader has already passed: lost for ever");
    }
}
