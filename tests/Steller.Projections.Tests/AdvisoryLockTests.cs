using FluentAssertions;
using Npgsql;
using NUnit.Framework;
using Steller.Projections.Engine;
using Steller.Testing;

namespace Steller.Projections.Tests;

/// <summary>
/// The leadership locks of a process share one database session (<see cref="LeadershipSession"/>, issue 11): one connection
/// for all of them, a second holder in the process refused as a second session would be, one lock released alone, and every
/// lock lost together when the server terminates the session.
/// </summary>
public sealed class AdvisoryLockTests
{
    [Test, CancelAfter(60_000)]
    public async Task every_lock_of_a_process_is_held_on_one_session_and_a_second_holder_in_the_process_is_refused()
    {
        await using var db = await TestDatabase.Create("advlockone");
        var names = Enumerable.Range(0, 12).Select(i => $"follower-{i}").ToArray();
        // Together, as the followers of a starting node ask.
        var locks = await Task.WhenAll(names.Select(n => AdvisoryLock.TryAcquire(db.DataSource, "leader", n, default)));
        try
        {
            locks.Should().AllSatisfy(l => l.Should().NotBeNull().And.Subject.As<AdvisoryLock>().IsHeld.Should().BeTrue());
            (await HolderPids(db)).Should().HaveCount(1, "one session holds every lock of the process");
            (await HolderPids(db, count: true)).Single().Should().Be(names.Length);

            // Re-entrant on the server, yet refused in the process: a second runner of the same follower, a rebuild twice.
            (await AdvisoryLock.TryAcquire(db.DataSource, "leader", names[3], default)).Should().BeNull();
            var rebuild = await AdvisoryLock.TryAcquire(db.DataSource, "rebuild", names[3], default);
            rebuild.Should().NotBeNull("another purpose is another lock");
            (await AdvisoryLock.TryAcquire(db.DataSource, "rebuild", names[3], default)).Should().BeNull();
            await rebuild!.DisposeAsync();

            // Another process (a session of its own) cannot have it either, until this one releases that lock alone.
            await using var other = NpgsqlDataSource.Create(db.ConnectionString);
            (await AdvisoryLock.TryAcquire(other, "leader", names[3], default)).Should().BeNull();
            await locks[3]!.DisposeAsync();
            locks[3]!.IsHeld.Should().BeFalse();
            await using var taken = await AdvisoryLock.TryAcquire(other, "leader", names[3], default);
            taken.Should().NotBeNull("the released lock is free");
            (await AdvisoryLock.TryAcquire(other, "leader", names[4], default)).Should().BeNull("the others stay held");
            locks.Where((_, i) => i != 3).Should().AllSatisfy(l => l!.IsHeld.Should().BeTrue());
            (await locks[5]!.Confirm(default)).Should().BeTrue();
        }
        finally
        {
            foreach (var l in locks) if (l is not null) await l.DisposeAsync();
        }
        (await HolderPids(db, count: true)).Single().Should().Be(0);
    }

    [Test, CancelAfter(60_000)]
    public async Task a_terminated_session_loses_every_lock_and_the_next_attempt_opens_a_new_session()
    {
        await using var db = await TestDatabase.Create("advlockdrop");
        var locks = await Task.WhenAll(Enumerable.Range(0, 5).Select(i => AdvisoryLock.TryAcquire(db.DataSource, "leader", $"f{i}", default)));
        var pid = (await HolderPids(db)).Single();

        (await db.Scalar<bool>($"select pg_terminate_backend({pid})")).Should().BeTrue();
        // The heartbeat notices (within about HeartbeatInterval); Confirm asks at once.
        (await locks[0]!.Confirm(default)).Should().BeFalse();
        locks.Should().AllSatisfy(l => l!.IsHeld.Should().BeFalse("the session that held them is gone"));
        (await locks[1]!.Confirm(default)).Should().BeFalse();

        await using var again = await AdvisoryLock.TryAcquire(db.DataSource, "leader", "f1", default);
        again.Should().NotBeNull();
        again!.IsHeld.Should().BeTrue();
        (await HolderPids(db)).Should().ContainSingle().Which.Should().NotBe(pid, "a new session holds it");
        foreach (var l in locks) await l!.DisposeAsync(); // a lost lock's release touches nothing
        again.IsHeld.Should().BeTrue("releasing the lost locks does not release the new session's");
        (await again.Confirm(default)).Should().BeTrue();
    }

    [Test, CancelAfter(60_000)]
    public async Task the_heartbeat_finds_a_terminated_session_without_anyone_asking()
    {
        await using var db = await TestDatabase.Create("advlockbeat");
        await using var held = await AdvisoryLock.TryAcquire(db.DataSource, "leader", "beat", default);
        var pid = (await HolderPids(db)).Single();
        (await db.Scalar<bool>($"select pg_terminate_backend({pid})")).Should().BeTrue();
        await Eventually.True(() => Task.FromResult(!held!.IsHeld), 3 * AdvisoryLock.HeartbeatInterval, "the heartbeat notices");
    }

    [Test, CancelAfter(60_000)]
    public async Task a_standby_takes_a_released_lock_at_its_next_attempt()
    {
        await using var db = await TestDatabase.Create("advlockstandby");
        await using var other = NpgsqlDataSource.Create(db.ConnectionString);
        var leader = await AdvisoryLock.TryAcquire(other, "leader", "s", default);
        leader.Should().NotBeNull();
        using var stop = new CancellationTokenSource();
        var standby = Task.Run(async () =>
        {
            while (true)
            {
                if (await AdvisoryLock.TryAcquire(db.DataSource, "leader", "s", stop.Token) is { } got) return got;
                await Task.Delay(AdvisoryLock.UntilNextAttempt(TimeSpan.FromSeconds(1)), stop.Token);
            }
        });
        await Task.Delay(1_500);
        standby.IsCompleted.Should().BeFalse();
        await leader!.DisposeAsync();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await using var taken = await standby.WaitAsync(TimeSpan.FromSeconds(5));
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(2.5), "a standby tries every second (a busy test machine adds some)");
        taken.IsHeld.Should().BeTrue();
    }

    [Test]
    public void standby_attempts_fall_on_the_intervals_ticks_and_never_wait_longer_than_one_interval()
    {
        for (var i = 0; i < 50; i++)
        {
            var wait = AdvisoryLock.UntilNextAttempt(TimeSpan.FromSeconds(1));
            wait.Should().BeGreaterThan(TimeSpan.Zero).And.BeLessThanOrEqualTo(TimeSpan.FromSeconds(1));
            ((Environment.TickCount64 + (long)wait.TotalMilliseconds) % 1_000).Should().BeLessThan(20);
        }
    }

    /// <summary>The backends of this database that hold an advisory lock (or, with <paramref name="count"/>, how many locks they hold).</summary>
    private static async Task<List<int>> HolderPids(TestDatabase db, bool count = false)
    {
        await using var cmd = db.DataSource.CreateCommand($"""
            select {(count ? "count(*)::int" : "distinct l.pid")} from pg_locks l join pg_database d on d.oid = l.database
             where l.locktype = 'advisory' and l.granted and d.datname = current_database()
            """);
        var pids = new List<int>();
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync()) pids.Add(reader.GetInt32(0));
        return pids;
    }
}
