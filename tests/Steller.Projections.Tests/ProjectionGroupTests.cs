using Dapper;
using FluentAssertions;
using NUnit.Framework;
using Steller.Application.EventStore;
using Steller.Projections.Engine;
using Steller.Testing;

namespace Steller.Projections.Tests;

/// <summary>
/// The live projections of one process apply a log batch together: one transaction for every member's rows and checkpoint
/// (<see cref="ProjectionGroup"/>). A transaction is told by the xmin of the rows it wrote.
/// </summary>
public sealed class ProjectionGroupTests
{
    private static async Task AllJoined(ProjectionHarness h, int count) =>
        await Eventually.True(() => Task.FromResult(h.Group.Members == count), TimeSpan.FromSeconds(60),
            $"{count} live projections joined the group");

    private static async Task<long> Events(ProjectionHarness h, string projection) =>
        await h.Db.Scalar<long>($"select coalesce(sum(events), 0)::bigint from read.{projection}_counts");

    [Test, CancelAfter(120_000)]
    public async Task a_batch_relevant_to_three_live_projections_writes_their_rows_and_checkpoints_in_one_transaction()
    {
        await using var h = await ProjectionHarness.Create("group_one_tx");
        string[] names = ["group_a", "group_b", "group_c"];
        foreach (var name in names) h.Start(new CountingProjection(name));
        await AllJoined(h, 3);
        var before = h.Group.Transactions;

        await h.Store.Append("one-event", ExpectedRevision.NoStream, [Steller.Testing.Events.Make("test.counted.v1", """{"n":5}""")]);
        foreach (var name in names) await h.CaughtUp(name);

        var checkpointTransactions = await h.Db.Scalar<long>(
            "select count(distinct xmin::text)::bigint from steller.projection_checkpoints where name in ('group_a', 'group_b', 'group_c')");
        checkpointTransactions.Should().Be(1, "the three checkpoints moved in one transaction");
        var rowTransactions = await h.Db.Scalar<long>("""
            select count(distinct x)::bigint from (
                select xmin::text as x from read_v1.group_a_counts union all select xmin::text from read_v1.group_b_counts
                union all select xmin::text from read_v1.group_c_counts
                union all select xmin::text from steller.projection_checkpoints where name in ('group_a', 'group_b', 'group_c')) t
            """);
        rowTransactions.Should().Be(1, "each projection's row was written in the transaction that moved the checkpoints");
        (h.Group.Transactions - before).Should().Be(1);
        foreach (var name in names) (await Events(h, name)).Should().Be(1);
    }

    [Test, CancelAfter(120_000)]
    public async Task a_poison_event_in_one_projection_of_a_group_stops_only_that_projection_and_the_others_apply_the_batch_exactly_once()
    {
        await using var h = await ProjectionHarness.Create("group_poison");
        var poisoned = new CountingProjection("group_poisoned") { Poisoned = true, OnPoison = OnPoisonEvent.Stop };
        var (poisonedWorker, _) = h.Start(poisoned);
        var healthy = new[] { h.Start(new CountingProjection("group_healthy_a")).Worker, h.Start(new CountingProjection("group_healthy_b")).Worker };
        await AllJoined(h, 3);

        // One append: ten events, the poison, ten more (one batch for the group).
        var events = Enumerable.Range(1, 10).Select(n => Steller.Testing.Events.Make("test.counted.v1", $$"""{"n":{{n}}}"""))
            .Append(Steller.Testing.Events.Make("test.poison.v1", """{"n":0}"""))
            .Concat(Enumerable.Range(11, 10).Select(n => Steller.Testing.Events.Make("test.counted.v1", $$"""{"n":{{n}}}""")))
            .ToList();
        await h.Store.Append("mixed", ExpectedRevision.NoStream, events);

        foreach (var w in healthy) await h.CaughtUp(w.Projection.Name);
        await Eventually.True(() => Task.FromResult(poisonedWorker.State == ProjectionState.Faulted), TimeSpan.FromSeconds(30),
            "the poisoned projection stops at the poison event");
        foreach (var w in healthy)
        {
            (await Events(h, w.Projection.Name)).Should().Be(21, $"{w.Projection.Name} applied the batch once");
            (await h.Db.Scalar<long>($"select sum_n from read.{w.Projection.Name}_counts")).Should().Be(210);
        }
        (await Events(h, poisoned.Name)).Should().Be(10, "the events before the poison are applied, the poison and the rest wait");
        poisonedWorker.LastError.Should().Contain("poison event refused");

        // The healthy ones are back in the group and take the next batch together; the fixed one catches up and rejoins.
        await AllJoined(h, 2);
        poisoned.Poisoned = false;
        await h.CaughtUp(poisoned.Name);
        await AllJoined(h, 3);
        await h.Store.Append("after", ExpectedRevision.NoStream, [Steller.Testing.Events.Make("test.counted.v1", """{"n":100}""")]);
        foreach (var name in new[] { poisoned.Name, "group_healthy_a", "group_healthy_b" }) await h.CaughtUp(name);
        (await Events(h, poisoned.Name)).Should().Be(22, "the poison event was applied, not skipped, and nothing twice");
        foreach (var w in healthy) (await Events(h, w.Projection.Name)).Should().Be(22);
        (await h.Db.Scalar<long>("""
            select count(distinct xmin::text)::bigint from steller.projection_checkpoints
             where name in ('group_poisoned', 'group_healthy_a', 'group_healthy_b')
            """)).Should().Be(1, "all three took the last batch in one transaction again");
    }

    [Test, CancelAfter(180_000)]
    public async Task connections_dropped_in_the_middle_of_group_transactions_apply_nothing_twice_in_any_member()
    {
        await using var h = await ProjectionHarness.Create("group_crash", batchSize: 50);
        var crashing = new CountingProjection("group_crashing");
        h.Start(crashing);
        string[] others = ["group_steady_a", "group_steady_b"];
        foreach (var name in others) h.Start(new CountingProjection(name));
        await AllJoined(h, 3);
        crashing.CrashChance = 0.3; // every other crash kills the connection with the group's rows written and not committed

        var sum = await h.Append(streams: 20, count: 1_500, writers: 4);
        foreach (var name in others.Append(crashing.Name)) await h.CaughtUp(name);

        crashing.Crashes.Should().BeGreaterThan(3, "the test must actually break group transactions");
        h.Group.Transactions.Should().BeGreaterThan(0);
        var truth = await h.FoldFromLog();
        foreach (var name in others.Append(crashing.Name))
        {
            var rows = (await h.Db.DataSource.OpenConnection().QueryAsync<(string Stream, long Events, long Sum)>(
                $"select stream_id, events, sum_n from read.{name}_counts")).ToList();
            rows.Sum(r => r.Events).Should().Be(1_500, $"{name} applied every event once");
            rows.Sum(r => r.Sum).Should().Be(sum);
            rows.Should().OnlyContain(r => truth[r.Stream].Events == r.Events);
        }
    }

    private sealed class RecordingManager : IProcessManager
    {
        public string Name => "recording_manager";
        public IReadOnlySet<string> EventTypes { get; } = new HashSet<string> { "test.counted.v1" };
        public readonly System.Collections.Concurrent.ConcurrentQueue<Guid> Handled = new();
        public Task Handle(IReadOnlyList<RecordedEvent> events, CancellationToken ct)
        {
            foreach (var e in events) Handled.Enqueue(e.EventId);
            return Task.CompletedTask;
        }
    }

    [Test, CancelAfter(120_000)]
    public async Task a_process_manager_stays_out_of_the_group_and_moves_its_checkpoint_after_handling_only_from_where_it_was()
    {
        await using var h = await ProjectionHarness.Create("group_manager");
        var manager = new RecordingManager();
        var subscription = new ProcessManagerSubscription(manager);
        h.Start(subscription);
        h.Start(new CountingProjection("group_neighbour"));
        await AllJoined(h, 1);

        await h.Append(streams: 2, count: 10);
        await h.CaughtUp(manager.Name);
        await h.CaughtUp("group_neighbour");
        manager.Handled.Should().HaveCount(10).And.OnlyHaveUniqueItems("each event is handled once on the live path");
        h.Group.Members.Should().Be(1, "a process manager runs with no transaction open, so never in the group's");

        // A batch from a stale position (another runner's view): handled (at least once), then refused without moving
        // the checkpoint, by the one statement that moves it.
        var active = (await h.Bookkeeping.GetActive(manager.Name, default))!;
        var before = await h.Bookkeeping.LoadCheckpoint(manager.Name, active.Generation, default);
        var page = await h.Store.ReadAll(LogPosition.Start, 3);
        var stale = () => BatchApplier.Apply(h.Db.DataSource, subscription, active.Generation, mustBeActive: true, LogPosition.Start, page, default);
        await stale.Should().ThrowAsync<ProjectionConflictException>();
        (await h.Bookkeeping.LoadCheckpoint(manager.Name, active.Generation, default)).Should().Be(before);
        manager.Handled.Should().HaveCount(13);

        // A generation that is not the active one: retired, nothing moved.
        (await BatchApplier.Apply(h.Db.DataSource, subscription, active.Generation + 1, mustBeActive: true, before.Position, page, default))
            .Should().Be(BatchApplier.Outcome.GenerationRetired);
        (await h.Bookkeeping.LoadCheckpoint(manager.Name, active.Generation, default)).Should().Be(before);
    }

    /// <summary>Counts the moves of one checkpoint row (a trigger), so a test can tell how often it was written.</summary>
    private static async Task CountMoves(ProjectionHarness h, string name)
    {
        await using var cmd = h.Db.DataSource.CreateCommand($"""
            create table public.checkpoint_moves (at timestamptz not null default clock_timestamp());
            create function public.count_move() returns trigger language plpgsql as $$ begin insert into public.checkpoint_moves default values; return null; end $$;
            create trigger count_move after update on steller.projection_checkpoints
               for each row when (new.name = '{name}' and new.commit_position is distinct from old.commit_position) execute function public.count_move();
            """);
        await cmd.ExecuteNonQueryAsync();
    }

    [Test, CancelAfter(120_000)]
    public async Task a_process_manager_handles_each_event_at_once_and_moves_its_checkpoint_at_most_once_a_second()
    {
        await using var h = await ProjectionHarness.Create("manager_coalesced");
        var manager = new RecordingManager();
        h.Start(new ProcessManagerSubscription(manager));
        await h.CaughtUp(manager.Name);
        await CountMoves(h, manager.Name);
        await Task.Delay(ProjectionWorker.IdleCheckpointInterval + TimeSpan.FromMilliseconds(100)); // quiet: the first move is due at once

        // Ten appends 50 ms apart, each handled before the next is appended.
        for (var i = 0; i < 10; i++)
        {
            await h.Store.Append($"coalesced-{i}", ExpectedRevision.NoStream, [Steller.Testing.Events.Make("test.counted.v1", """{"n":1}""")]);
            var expected = i + 1;
            await Eventually.True(() => Task.FromResult(manager.Handled.Count == expected), TimeSpan.FromSeconds(30), $"event {expected} handled");
            await Task.Delay(50);
        }
        await h.CaughtUp(manager.Name);

        manager.Handled.Should().HaveCount(10).And.OnlyHaveUniqueItems();
        var moves = await h.Db.Scalar<long>("select count(*) from public.checkpoint_moves");
        moves.Should().BeInRange(1, 3, "ten handled batches over about a second move the checkpoint at most once a second (plus the first at once)");
    }

    [Test, CancelAfter(120_000)]
    public async Task a_process_manager_restarted_before_its_checkpoint_moved_handles_those_events_again_and_loses_none()
    {
        await using var h = await ProjectionHarness.Create("manager_restart");
        var manager = new RecordingManager();
        var (_, stop) = h.Start(new ProcessManagerSubscription(manager));
        await h.CaughtUp(manager.Name);
        await Task.Delay(ProjectionWorker.IdleCheckpointInterval + TimeSpan.FromMilliseconds(100));
        await h.Store.Append("restart-0", ExpectedRevision.NoStream, [Steller.Testing.Events.Make("test.counted.v1", """{"n":1}""")]);
        await Eventually.True(() => Task.FromResult(manager.Handled.Count == 1), TimeSpan.FromSeconds(30), "the first event handled (and its move made)");
        await h.CaughtUp(manager.Name);

        // Within the second after that move: handled, not stored yet. Then the worker stops.
        var events = Steller.Testing.Events.Many(3, "test.counted.v1");
        await h.Store.Append("restart-1", ExpectedRevision.NoStream, events);
        await Eventually.True(() => Task.FromResult(manager.Handled.Count == 4), TimeSpan.FromSeconds(30), "the three handled");
        stop.Cancel();
        await Task.Delay(200);
        var active = (await h.Bookkeeping.GetActive(manager.Name, default))!;
        var storedBeforeRestart = (await h.Bookkeeping.LoadCheckpoint(manager.Name, active.Generation, default)).EventsApplied;

        h.Start(new ProcessManagerSubscription(manager));
        await h.CaughtUp(manager.Name);

        storedBeforeRestart.Should().Be(1, "the stop came before the coalesced move (else the test says nothing)");
        manager.Handled.Count(id => events.Any(e => e.EventId == id)).Should().Be(6, "the restart handled the three again: at least once, none lost");
    }
}
