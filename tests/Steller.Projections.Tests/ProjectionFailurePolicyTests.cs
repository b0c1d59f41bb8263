using Dapper;
using FluentAssertions;
using Microsoft.Extensions.Logging.Abstractions;
using NUnit.Framework;
using Steller.Application.EventStore;
using Steller.Projections.Engine;
using Steller.Testing;

namespace Steller.Projections.Tests;

public sealed class ProjectionFailurePolicyTests
{
    [Test, CancelAfter(120_000)]
    public async Task an_event_a_parking_projection_cannot_apply_is_parked_the_rest_of_its_batch_and_the_log_are_applied_and_retry_applies_it()
    {
        await using var h = await ProjectionHarness.Create("park", batchSize: 40);
        var projection = new CountingProjection("parking") { Poisoned = true, OnPoison = OnPoisonEvent.Park };
        var (worker, _) = h.Start(projection);

        await h.Append(streams: 3, count: 30, prefix: "before", writers: 1);
        var poisonId = Guid.NewGuid();
        await h.Store.Append("poison-1", ExpectedRevision.NoStream, [Events.Make("test.poison.v1", """{"n":0}""", poisonId)]);
        await h.Append(streams: 3, count: 30, prefix: "after", writers: 1);

        await h.CaughtUp(projection.Name);
        (await h.Db.Scalar<long>("select sum(events) from read.parking_counts")).Should().Be(60, "every event but the poison is applied");
        var parked = await h.Bookkeeping.Parked(null, default);
        parked.Should().ContainSingle().Which.Should().Match<ParkedEvent>(p =>
            p.Projection == "parking" && p.EventId == poisonId && p.StreamId == "poison-1" && p.Type == "test.poison.v1"
            && p.Error.Contains("poison event refused"));
        (await h.Bookkeeping.FaultedProjections(default)).Should().BeEmpty("a parking projection goes on: it is not stopped");
        worker.State.Should().NotBe(ProjectionState.Faulted);
        var status = (await new ProjectionStatusReader(h.Bookkeeping, h.Store, [projection]).Read(default)).Single();
        status.Parked.Should().Be(1);
        status.State.Should().NotBe("stopped");
        Engine.ProjectionMetrics.Parked.WithLabels("parking").Value.Should().BeGreaterThanOrEqualTo(1);

        var retry = new ParkedEventRetry(h.Store, h.Bookkeeping, [projection]);
        (await retry.Retry("parking", default)).Should().Match<ParkedRetryResult>(r => r.Applied == 0 && r.StillParked.Count == 1,
            "the cause is not fixed yet: the event stays parked");
        (await h.Bookkeeping.Parked(null, default)).Single().Attempts.Should().Be(2);

        projection.Poisoned = false; // the operator deploys the fix
        (await retry.Retry(null, default)).Should().Match<ParkedRetryResult>(r => r.Applied == 1 && r.StillParked.Count == 0);
        (await h.Bookkeeping.Parked(null, default)).Should().BeEmpty();
        (await h.Db.Scalar<long>("select sum(events) from read.parking_counts")).Should().Be(61);
    }

    [Test, CancelAfter(120_000)]
    public async Task a_stopping_projection_applies_the_events_before_the_poison_and_stops_right_before_it_naming_it()
    {
        await using var h = await ProjectionHarness.Create("stopat", batchSize: 100);
        await h.Append(streams: 2, count: 20, prefix: "before", writers: 1);
        var poisonId = Guid.NewGuid();
        await h.Store.Append("poison-1", ExpectedRevision.NoStream, [Events.Make("test.poison.v1", """{"n":0}""", poisonId)]);
        await h.Append(streams: 2, count: 20, prefix: "after", writers: 1);
        var projection = new CountingProjection("stopping") { Poisoned = true, OnPoison = OnPoisonEvent.Stop };
        h.Start(projection); // one batch holds all 41 events

        await Eventually.True(async () => (await h.Bookkeeping.FaultedProjections(default)).Contains("stopping"), TimeSpan.FromSeconds(30),
            "the projection stops");
        (await h.Db.Scalar<string>("select error from steller.projection_faults")).Should().Contain(poisonId.ToString());
        (await h.Db.Scalar<long>("select sum(events) from read.stopping_counts")).Should().Be(20, "the events before the poison are kept");
        (await h.Bookkeeping.Parked(null, default)).Should().BeEmpty("a stopping projection never skips an event");
    }

    [Test, CancelAfter(120_000)]
    public async Task a_fault_recorded_by_an_earlier_process_is_cleared_when_the_projection_next_commits_after_a_restart()
    {
        await using var h = await ProjectionHarness.Create("restartfault", batchSize: 20);
        await h.Append(streams: 2, count: 10, prefix: "before", writers: 1);
        await h.Store.Append("poison-1", ExpectedRevision.NoStream, [Events.Make("test.poison.v1", """{"n":0}""")]);

        // First process: the projection stops at the poison event and records its fault.
        var (first, stop) = h.Start(new CountingProjection("restarted") { Poisoned = true });
        await Eventually.True(async () => (await h.Bookkeeping.FaultedProjections(default)).Contains("restarted"), TimeSpan.FromSeconds(30),
            "the first process records the fault");
        await stop.CancelAsync();
        await Eventually.True(() => Task.FromResult(first.State == ProjectionState.Stopped), TimeSpan.FromSeconds(10), "the first process stops");

        // Second process on the same database, with the cause fixed: its own log reader, bookkeeping and worker.
        var store = h.Db.CreateEventStore();
        await using var log = new LogTail(store);
        var bookkeeping = new ProjectionStore(h.Db.DataSource);
        var rebuilder = new ProjectionRebuilder(store, bookkeeping, h.Settings, NullLogger<ProjectionRebuilder>.Instance);
        var second = new ProjectionWorker(new CountingProjection("restarted"), log, bookkeeping, rebuilder, h.Settings,
            NullLogger<ProjectionWorker>.Instance);
        using var stopSecond = new CancellationTokenSource();
        var run = Task.Run(() => second.Run(stopSecond.Token));
        try
        {
            await h.CaughtUp("restarted");
            await Eventually.True(async () => (await bookkeeping.FaultedProjections(default)).Count == 0, TimeSpan.FromSeconds(10),
                "the fault the first process recorded is cleared by the second one's commit");
            var status = (await new ProjectionStatusReader(bookkeeping, store, [new CountingProjection("restarted")]).Read(default)).Single();
            status.State.Should().Be("live");
            status.Error.Should().BeNull();
        }
        finally
        {
            await stopSecond.CancelAsync();
            await run;
        }
    }

    [Test, CancelAfter(120_000)]
    public async Task an_old_fault_of_a_projection_already_at_the_head_is_cleared_after_a_restart_without_waiting_for_an_event()
    {
        await using var h = await ProjectionHarness.Create("restarthead", batchSize: 20);
        await h.Append(streams: 2, count: 10, writers: 1);
        var (_, stop) = h.Start(new CountingProjection("athead"));
        await h.CaughtUp("athead");
        await stop.CancelAsync();
        await Task.Delay(200);
        // What a process that failed and then died left behind (its projection recovered later in another way).
        await h.Bookkeeping.RecordFault("athead", 1, new InvalidOperationException("old failure"), 7, LogPosition.Start);

        var (worker, _) = h.Start(new CountingProjection("athead")); // the restarted node; no event comes
        await Eventually.True(async () => (await h.Bookkeeping.FaultedProjections(default)).Count == 0, TimeSpan.FromSeconds(15),
            "the old fault is cleared once the projection is at the head with nothing failing");
        worker.State.Should().NotBe(ProjectionState.Faulted);
    }
}
