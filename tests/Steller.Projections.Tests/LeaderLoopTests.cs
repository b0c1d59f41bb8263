using FluentAssertions;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using NUnit.Framework;
using Steller.Projections.Engine;
using Steller.Testing;

namespace Steller.Projections.Tests;

/// <summary>
/// A loop that runs on one node at a time (<see cref="LeaderLoop"/>: the fulfilment poller and the pending-order timeout,
/// issue 11): two instances on one database, each on a data source of its own as two nodes would be, run their passes on
/// one of them only, and the other takes over when the first's session is killed or the first stops.
/// </summary>
public sealed class LeaderLoopTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);

    [Test, CancelAfter(60_000)]
    public async Task of_two_nodes_only_one_runs_passes_and_the_other_takes_over_when_the_first_ones_session_is_killed()
    {
        await using var db = await TestDatabase.Create("leaderloopkill");
        await using var otherNode = NpgsqlDataSource.Create(db.ConnectionString);
        await using var first = Node.Start(db.DataSource, "kill");
        await Eventually.True(() => Task.FromResult(first.Loop.Passes >= 3), TimeSpan.FromSeconds(10), "the first node runs passes");
        await using var second = Node.Start(otherNode, "kill");

        await Task.Delay(1_500); // more than a standby attempt
        second.Loop.Passes.Should().Be(0, "the second node stands by while the first holds the lock");
        second.Loop.IsLeading.Should().BeFalse();
        first.Loop.IsLeading.Should().BeTrue();

        var pid = await HolderPid(db);
        (await db.Scalar<bool>($"select pg_terminate_backend({pid})")).Should().BeTrue();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await Eventually.True(() => Task.FromResult(second.Loop.Passes >= 3), TimeSpan.FromSeconds(10), "the second node takes over");
        TestContext.Out.WriteLine($"the second node ran its third pass {clock.Elapsed.TotalSeconds:0.0} s after the kill");
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(5), "a standby tries every second (a busy machine adds some)");

        // The first node notices its lost lock by its session's heartbeat, then starts no further pass.
        await Eventually.True(() => Task.FromResult(!first.Loop.IsLeading), 3 * AdvisoryLock.HeartbeatInterval,
            "the first node stops its loop");
        var ranOnFirst = first.Loop.Passes;
        await Task.Delay(3 * ProjectionWorker.StandbyInterval); // past its wait before trying again
        first.Loop.Passes.Should().Be(ranOnFirst, "the second node leads now; the first stands by");
        second.Loop.IsLeading.Should().BeTrue();
        first.Overlaps.Should().Be(0);
        second.Overlaps.Should().Be(0);
    }

    [Test, CancelAfter(60_000)]
    public async Task a_stopped_loop_releases_its_lock_and_a_standby_node_takes_over_within_a_few_seconds()
    {
        await using var db = await TestDatabase.Create("leaderloopstop");
        await using var otherNode = NpgsqlDataSource.Create(db.ConnectionString);
        await using var first = Node.Start(db.DataSource, "stop");
        await Eventually.True(() => Task.FromResult(first.Loop.Passes >= 1), TimeSpan.FromSeconds(10), "the first node runs passes");
        await using var second = Node.Start(otherNode, "stop");
        await Task.Delay(1_500);
        second.Loop.Passes.Should().Be(0);

        await first.DisposeAsync(); // shutdown: the loop ends and its lock is released
        first.Run.IsCompletedSuccessfully.Should().BeTrue("the loop stops cleanly when its token is cancelled");
        first.Loop.IsLeading.Should().BeFalse();
        var ranOnFirst = first.Loop.Passes;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await Eventually.True(() => Task.FromResult(second.Loop.Passes >= 1), TimeSpan.FromSeconds(10), "the second node takes over");
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(2.5), "a standby tries every second (a busy machine adds some)");
        first.Loop.Passes.Should().Be(ranOnFirst);
    }

    [Test, CancelAfter(60_000)]
    public async Task a_failing_pass_is_logged_and_the_next_runs_on_schedule_and_a_slow_pass_is_never_overlapped()
    {
        await using var db = await TestDatabase.Create("leaderloopfail");
        var passes = 0;
        var running = 0;
        var overlaps = 0;
        var began = new List<DateTime>();
        var loop = new LeaderLoop(db.DataSource, "fail", Interval, async ct =>
        {
            if (Interlocked.Increment(ref running) > 1) Interlocked.Increment(ref overlaps);
            try
            {
                lock (began) began.Add(DateTime.UtcNow);
                var n = Interlocked.Increment(ref passes);
                if (n % 2 == 1) throw new InvalidOperationException("boom"); // every other pass fails
                if (n == 4) await Task.Delay(3 * Interval, ct); // one overruns its interval
            }
            finally { Interlocked.Decrement(ref running); }
        }, NullLogger.Instance);
        using var stop = new CancellationTokenSource();
        var run = loop.Run(stop.Token);
        await Eventually.True(() => Task.FromResult(Volatile.Read(ref passes) >= 10), TimeSpan.FromSeconds(10), "passes go on after failures");
        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(5));
        overlaps.Should().Be(0, "passes never overlap");
        List<TimeSpan> gaps;
        lock (began) gaps = began.Zip(began.Skip(1), (a, b) => b - a).ToList();
        gaps.Should().OnlyContain(g => g >= Interval - TimeSpan.FromMilliseconds(20), "a pass every interval, not more often");
        gaps.Skip(3).First().Should().BeGreaterThanOrEqualTo(3 * Interval - TimeSpan.FromMilliseconds(20), "the pass after the slow one waits for it (clock and timer granularity, as above)");
        gaps.Skip(3).First().Should().BeLessThan(3 * Interval + TimeSpan.FromMilliseconds(500),
            "and starts at once after it, without waiting another interval (a busy machine adds some)");
    }

    /// <summary>A node: one loop, its run and its stop; counts passes that overlapped another pass on this node.</summary>
    private sealed class Node : IAsyncDisposable
    {
        private readonly CancellationTokenSource stop = new();
        private int running, disposed;
        public LeaderLoop Loop { get; private init; } = null!;
        public Task Run { get; private set; } = Task.CompletedTask;
        public int Overlaps;

        public static Node Start(NpgsqlDataSource dataSource, string name)
        {
            Node? node = null;
            node = new Node
            {
                Loop = new LeaderLoop(dataSource, name, Interval, async ct =>
                {
                    if (Interlocked.Increment(ref node!.running) > 1) Interlocked.Increment(ref node.Overlaps);
                    await Task.Delay(10, ct);
                    Interlocked.Decrement(ref node.running);
                }, NullLogger.Instance),
            };
            node.Run = node.Loop.Run(node.stop.Token);
            return node;
        }

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref disposed, 1) == 1) return;
            await stop.CancelAsync();
            await Run.WaitAsync(TimeSpan.FromSeconds(10));
            stop.Dispose();
        }
    }

    /// <summary>The one backend of this database that holds an advisory lock.</summary>
    private static async Task<int> HolderPid(TestDatabase db) => await db.Scalar<int>("""
        select distinct l.pid from pg_locks l join pg_database d on d.oid = l.database
         where l.locktype = 'advisory' and l.granted and d.datname = current_database()
        """);
}
