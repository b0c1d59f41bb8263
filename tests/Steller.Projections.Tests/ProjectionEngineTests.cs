using System.Collections.Concurrent;
using Dapper;
using FluentAssertions;
using NUnit.Framework;
using Steller.Application.EventStore;
using Steller.Projections.Engine;
using Steller.Projections.Streams;
using Steller.Testing;

namespace Steller.Projections.Tests;

public sealed class ProjectionEngineTests
{
    [Test, CancelAfter(120_000)]
    public async Task every_event_is_applied_exactly_once_when_batches_crash_between_writing_and_commit()
    {
        await using var h = await ProjectionHarness.Create("crash", batchSize: 50);
        var projection = new CountingProjection { CrashChance = 0.3 };
        h.Start(projection);

        var sum = await h.Append(streams: 30, count: 3_000, writers: 6);
        await h.CaughtUp(projection.Name);

        projection.Crashes.Should().BeGreaterThan(5, "the test must actually crash batches, half of them by killing the connection");
        var rows = (await h.Db.DataSource.OpenConnection().QueryAsync<(string Stream, long Events, long Sum)>(
            "select stream_id, events, sum_n from read.counting_counts")).ToList();
        rows.Sum(r => r.Events).Should().Be(3_000);
        rows.Sum(r => r.Sum).Should().Be(sum);
        var truth = await h.FoldFromLog();
        rows.Should().OnlyContain(r => truth[r.Stream].Events == r.Events);
    }

    [Test, CancelAfter(120_000)]
    public async Task a_failing_event_stops_only_its_projection_which_shows_as_stopped_and_resumes_without_skipping_it()
    {
        await using var h = await ProjectionHarness.Create("poison", batchSize: 20);
        var poisoned = new CountingProjection("poisoned") { Poisoned = true };
        var healthy = new StreamStatsProjection();
        var (poisonedWorker, _) = h.Start(poisoned);
        h.Start(healthy);

        await h.Append(streams: 3, count: 50, prefix: "before");
        await h.Store.Append("poison-1", ExpectedRevision.NoStream, [Events.Make("test.poison.v1", """{"n":0}""")]);
        await h.Append(streams: 3, count: 50, prefix: "after");

        await h.CaughtUp(healthy.Name);
        // Retries may first commit the events before the poison (a batch that happens to end there); once the
        // projection is stuck at the poison event, the fault shows in the worker, the fault table and status alike.
        var reader = new ProjectionStatusReader(h.Bookkeeping, h.Store, [poisoned, healthy]);
        Dictionary<string, ProjectionStatus> status = [];
        await Eventually.True(async () =>
        {
            status = (await reader.Read(default)).ToDictionary(s => s.Name);
            return poisonedWorker.State == ProjectionState.Faulted && status["poisoned"].State == "stopped"
                && (await h.Bookkeeping.FaultedProjections(default)).Contains("poisoned");
        }, TimeSpan.FromSeconds(30), "the poisoned projection shows as stopped in the worker, the fault table and status");
        poisonedWorker.LastError.Should().Contain("poison event refused");
        status["poisoned"].EventsBehind.Should().BeGreaterThan(0, "the poison event and everything after it wait");
        status["stream_stats"].State.Should().Be("live");

        poisoned.Poisoned = false; // the operator fixes the cause

        await h.CaughtUp(poisoned.Name);
        await Eventually.True(async () => (await h.Bookkeeping.FaultedProjections(default)).Count == 0, TimeSpan.FromSeconds(30), "the fault clears");
        var events = await h.Db.Scalar<long>("select sum(events) from read.poisoned_counts");
        events.Should().Be(101, "the poison event was applied, not skipped");
    }

    [Test, CancelAfter(180_000)]
    public async Task a_rebuild_while_writers_append_ends_equal_to_a_fold_from_scratch_and_readers_see_no_errors()
    {
        await using var h = await ProjectionHarness.Create("rebuild", batchSize: 200, rebuildBatchSize: 500);
        var projection = new StreamStatsProjection();
        h.Start(projection);
        await h.Append(streams: 200, count: 20_000, writers: 8);
        await h.CaughtUp(projection.Name);

        using var stop = new CancellationTokenSource();
        var writers = Task.Run(async () =>
        {
            var i = 0;
            while (!stop.IsCancellationRequested)
                await h.Store.Append($"acct-{i++ % 300}", ExpectedRevision.Any, [Events.Make("test.counted.v1", """{"n":1}""")]);
        });
        var readerErrors = new ConcurrentBag<string>();
        var readerQueries = 0;
        var readers = Enumerable.Range(0, 3).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    await using var conn = await h.Db.DataSource.OpenConnectionAsync();
                    await conn.QueryAsync("select count(*), coalesce(sum(events), 0) from read.stream_stats");
                    await conn.QueryAsync("select * from read.stream_stats where stream_id = 'acct-7'");
                    Interlocked.Increment(ref readerQueries);
                }
                catch (Exception e) { readerErrors.Add(e.Message); }
            }
        })).ToArray();

        var result = await h.Rebuilder.Rebuild(projection, null, default);
        await Task.Delay(300);
        stop.Cancel();
        await writers;
        await Task.WhenAll(readers);
        await h.CaughtUp(projection.Name);

        result.NewGeneration.Should().Be(2);
        readerErrors.Should().BeEmpty();
        readerQueries.Should().BeGreaterThan(10);
        (await h.Db.Scalar<long>("select count(*) from pg_tables where schemaname = 'read_v1'")).Should().Be(0, "the old version is dropped");
        var truth = await h.FoldFromLog();
        var rows = (await h.Db.DataSource.OpenConnection().QueryAsync<(string Stream, long Events, long Last)>(
            "select stream_id, events, last_revision from read.stream_stats")).ToDictionary(r => r.Stream, r => (r.Events, r.Last));
        rows.Should().BeEquivalentTo(truth);
    }

    [Test, CancelAfter(120_000)]
    public async Task two_runners_of_one_projection_never_apply_a_batch_twice_and_the_standby_takes_over()
    {
        await using var h = await ProjectionHarness.Create("leader", batchSize: 25);
        var first = h.Start(new CountingProjection());
        var second = h.Start(new CountingProjection());

        var sum = await h.Append(streams: 10, count: 1_000);
        await h.CaughtUp("counting");
        new[] { first.Worker.State, second.Worker.State }.Should().Contain(ProjectionState.Standby);

        var leader = first.Worker.State == ProjectionState.Standby ? second : first;
        await leader.Stop.CancelAsync();
        sum += await h.Append(streams: 10, count: 1_000, prefix: "later");
        await h.CaughtUp("counting");

        (await h.Db.Scalar<long>("select sum(events) from read.counting_counts")).Should().Be(2_000);
        (await h.Db.Scalar<long>("select sum(sum_n) from read.counting_counts")).Should().Be(sum);
    }

    [Test, CancelAfter(120_000)]
    public async Task raising_a_projections_version_rebuilds_it_side_by_side_and_swaps_the_views()
    {
        await using var h = await ProjectionHarness.Create("version");
        var v1 = h.Start(new CountingProjection());
        await h.Append(streams: 5, count: 500);
        await h.CaughtUp("counting");
        await v1.Stop.CancelAsync();

        h.Start(new CountingProjection(version: 2, withExtraColumn: true));
        await Eventually.True(async () => (await h.Bookkeeping.GetActive("counting", default))?.CodeVersion == 2, TimeSpan.FromSeconds(60), "v2 is active");
        await h.CaughtUp("counting");

        (await h.Bookkeeping.GetActive("counting", default))!.Generation.Should().Be(2);
        (await h.Db.Scalar<long>("select sum(events) from read.counting_counts")).Should().Be(500);
        (await h.Db.Scalar<string>("select min(added_in_v2) from read.counting_counts")).Should().Be("yes", "the view now shows v2's shape");
    }
}
