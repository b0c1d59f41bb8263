using FluentAssertions;
using Microsoft.Extensions.Logging.Abstractions;
using NUnit.Framework;
using Steller.Application.EventStore;
using Steller.Projections.Engine;
using Steller.Testing;

namespace Steller.Projections.Tests;

/// <summary>
/// What LeaderSessionTerminatedTests once left behind, reduced to one process: a node whose database session was terminated
/// applies a batch on a fresh connection before its lock's heartbeat tells it the lock is gone (a zombie leader), so the
/// legitimate leader finds its checkpoint moved under it. That is no fault of the projection, and a fault whose batch another
/// runner applied is gone once the leader is at the head of the log.
/// </summary>
public sealed class CheckpointMovedUnderTheLeaderTests
{
    [TestCase(true), TestCase(false), CancelAfter(120_000)]
    public async Task a_leader_whose_checkpoint_another_runner_moved_reloads_it_and_goes_on_recording_no_fault(bool grouped)
    {
        await using var h = await ProjectionHarness.Create($"moved{(grouped ? "g" : "l")}", batchSize: 50);
        var name = grouped ? "moved_grouped" : "moved_alone";
        await h.Append(streams: 3, count: 20, writers: 1);
        var worker = new ProjectionWorker(new CountingProjection(name), h.Log, h.Bookkeeping, h.Rebuilder, h.Settings,
            NullLogger<ProjectionWorker>.Instance, grouped ? h.Group : null);
        using var stop = new CancellationTokenSource();
        var run = Task.Run(() => worker.Run(stop.Token));
        try
        {
            await h.CaughtUp(name);
            if (grouped)
                await Eventually.True(() => Task.FromResult(h.Group.Members == 1), TimeSpan.FromSeconds(10), "the worker joins its group");
            var generation = (await h.Bookkeeping.GetActive(name, default))!.Generation;
            var at = (await h.Bookkeeping.LoadCheckpoint(name, generation, default)).Position;
            var conflictsBefore = ProjectionMetrics.CheckpointConflicts.WithLabels(name).Value;

            // An older transaction holds the log's horizon back: the worker cannot read the next events yet...
            await using var horizon = await h.Db.DataSource.OpenConnectionAsync();
            await using var holding = await horizon.BeginTransactionAsync();
            await using (var xid = new Npgsql.NpgsqlCommand("select pg_current_xact_id()", horizon, holding)) await xid.ExecuteScalarAsync();
            await h.Store.Append("zombie-1", ExpectedRevision.NoStream,
                Enumerable.Range(1, 5).Select(n => Events.Make("test.counted.v1", $$"""{"n":{{n}}}""")).ToArray());
            // ...while a zombie runner (another node's worker that has not noticed it lost the lock) applies them.
            var batch = (await h.Store.ReadStream("zombie-1")).Events;
            (await BatchApplier.Apply(h.Db.DataSource, new CountingProjection(name), generation, mustBeActive: true, at, batch, default))
                .Should().Be(BatchApplier.Outcome.Applied);
            var sawFault = false;
            using var watching = new CancellationTokenSource();
            var watch = Task.Run(async () =>
            {
                while (!watching.IsCancellationRequested)
                {
                    if ((await h.Bookkeeping.FaultedProjections(default)).Contains(name) || worker.State == ProjectionState.Faulted) sawFault = true;
                    await Task.Delay(5);
                }
            });
            await holding.CommitAsync(); // the worker now reads them and finds its checkpoint moved past them

            await h.Append(streams: 3, count: 20, prefix: "after", writers: 1);
            await h.CaughtUp(name);
            await watching.CancelAsync();
            await watch;

            sawFault.Should().BeFalse("a checkpoint another runner moved is no fault of the projection");
            ProjectionMetrics.CheckpointConflicts.WithLabels(name).Value.Should().BeGreaterThan(conflictsBefore, "the worker met the moved checkpoint");
            (await h.Db.Scalar<long>($"select sum(events) from read.{name}_counts")).Should().Be(45, "every event applied exactly once");
            worker.State.Should().NotBe(ProjectionState.Faulted);
            worker.LastError.Should().BeNull();
        }
        finally
        {
            await stop.CancelAsync();
            await run;
        }
    }

    [Test, CancelAfter(120_000)]
    public async Task a_retrying_projection_whose_failing_batch_another_runner_applied_clears_its_fault_at_the_head_without_waiting_for_an_event()
    {
        await using var h = await ProjectionHarness.Create("failedgone", batchSize: 50);
        await h.Append(streams: 2, count: 10, writers: 1);
        var projection = new CountingProjection("failed_gone") { OnPoison = OnPoisonEvent.Stop };
        var (worker, _) = h.Start(projection);
        await h.CaughtUp("failed_gone");
        var generation = (await h.Bookkeeping.GetActive("failed_gone", default))!.Generation;
        var at = (await h.Bookkeeping.LoadCheckpoint("failed_gone", generation, default)).Position;

        projection.Poisoned = true; // this node's code cannot apply the next event...
        await h.Store.Append("poison-1", ExpectedRevision.NoStream, [Events.Make("test.poison.v1", """{"n":0}""")]);
        await Eventually.True(async () => (await h.Bookkeeping.FaultedProjections(default)).Contains("failed_gone"), TimeSpan.FromSeconds(30),
            "the worker stops at the event and records its fault");

        // ...which another runner applies (a node with the fix, or one that has not noticed it lost the lock).
        var batch = (await h.Store.ReadStream("poison-1")).Events;
        (await BatchApplier.Apply(h.Db.DataSource, new CountingProjection("failed_gone"), generation, mustBeActive: true, at, batch, default))
            .Should().Be(BatchApplier.Outcome.Applied);

        // No event follows: the retry finds the checkpoint at the head of the log, with nothing left to fail.
        await Eventually.True(async () => (await h.Bookkeeping.FaultedProjections(default)).Count == 0, TimeSpan.FromSeconds(15),
            "the fault is cleared once the retrying worker is at the head");
        await Eventually.True(() => Task.FromResult(worker.State == ProjectionState.Live), TimeSpan.FromSeconds(5), "the worker is live");
        worker.LastError.Should().BeNull();
        (await h.Db.Scalar<long>("select events from read.failed_gone_counts where stream_id = 'poison-1'")).Should().Be(1);
    }
}
