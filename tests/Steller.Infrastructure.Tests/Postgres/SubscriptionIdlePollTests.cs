using System.Diagnostics;
using System.Threading.Channels;
using FluentAssertions;
using NUnit.Framework;
using Steller.Application.EventStore;
using Steller.Infrastructure.Postgres;
using Steller.Testing;

namespace Steller.Infrastructure.Tests.Postgres;

/// <summary>
/// A caught-up log subscription while its node's LISTEN connection is up polls only every
/// <see cref="PostgresEventStoreOptions.ListeningIdleWait"/> (<c>Projections:IdlePollMilliseconds</c>, issue 11): an append
/// still wakes it at once however long it has been idle, and a commit nobody announced is still found by that slow poll.
/// </summary>
public sealed class SubscriptionIdlePollTests
{
    [Test, CancelAfter(60_000)]
    public async Task an_idle_subscription_wakes_at_once_on_an_append_and_finds_an_unannounced_commit_by_its_slow_poll(CancellationToken ct)
    {
        await using var db = await TestDatabase.Create("idlepoll");
        var store = db.CreateEventStore(new PostgresEventStoreOptions { ListeningIdleWait = TimeSpan.FromSeconds(10) });
        await using var follower = Follower.Start(store, ct);
        var seen = follower.Seen;

        // Idle for 6 s, its waits doubling from 5 ms: the one in progress ends at ~10.2 s, over 4 s after this append.
        await Task.Delay(6_000, ct);
        var announced = Events.Make("test.announced.v1");
        var appended = Stopwatch.GetTimestamp();
        await store.Append(Events.Stream(), ExpectedRevision.NoStream, [announced], ct);
        var first = await seen.Reader.ReadAsync(ct);
        first.Id.Should().Be(announced.EventId);
        Stopwatch.GetElapsedTime(appended, first.At).Should().BeLessThan(TimeSpan.FromSeconds(1.5),
            "the append's notification wakes the subscription; its next poll is seconds away");

        // A commit that is never announced (an append inside the caller's transaction, AnnounceCommitted not called) is
        // found by the poll alone: within the 10 s idle wait, and not at once (idle 6 s again: the next poll is ~4 s away).
        await Task.Delay(6_000, ct);
        var silent = Events.Make("test.silent.v1");
        await using (var conn = await db.DataSource.OpenConnectionAsync(ct))
        await using (var tx = await conn.BeginTransactionAsync(ct))
        {
            await store.AppendWithin(conn, tx, Events.Stream(), ExpectedRevision.NoStream, [silent], ct);
            await tx.CommitAsync(ct);
        }
        var committed = Stopwatch.GetTimestamp();
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(ct);
        wait.CancelAfter(TimeSpan.FromSeconds(15));
        var second = await seen.Reader.ReadAsync(wait.Token);
        second.Id.Should().Be(silent.EventId);
        var after = Stopwatch.GetElapsedTime(committed, second.At);
        TestContext.Out.WriteLine($"the unannounced commit was found by the poll {after.TotalMilliseconds:0} ms after it");
        after.Should().BeLessThan(TimeSpan.FromSeconds(11), "the poll runs at least every 10 s");
        after.Should().BeGreaterThan(TimeSpan.FromMilliseconds(500), "nothing woke the subscription: only its slow poll found it");

    }

    [Test, CancelAfter(60_000)]
    public async Task a_subscription_woken_by_a_commit_lingers_and_takes_the_commit_behind_it_in_the_same_read(CancellationToken ct)
    {
        await using var db = await TestDatabase.Create("wakelinger");
        var linger = TimeSpan.FromSeconds(1);
        var store = db.CreateEventStore(new PostgresEventStoreOptions { WakeLinger = linger });
        await using var follower = Follower.Start(store, ct);
        var seen = follower.Seen;
        // Caught up (an empty log) and waiting, past the wake-up and linger its LISTEN connection's start gives it.
        await Task.Delay(3_000, ct);

        var first = Events.Make("test.first.v1");
        var appended = Stopwatch.GetTimestamp();
        await store.Append(Events.Stream(), ExpectedRevision.NoStream, [first], ct);
        await Task.Delay(100, ct);
        var behind = Events.Make("test.behind.v1");
        await store.Append(Events.Stream(), ExpectedRevision.NoStream, [behind], ct);

        var a = await seen.Reader.ReadAsync(ct);
        var b = await seen.Reader.ReadAsync(ct);
        (a.Id, b.Id).Should().Be((first.EventId, behind.EventId));
        Stopwatch.GetElapsedTime(appended, a.At).Should().BeGreaterThan(linger - TimeSpan.FromMilliseconds(20),
            "the first commit woke the subscription, which waited before reading");
        Stopwatch.GetElapsedTime(a.At, b.At).Should().BeLessThan(TimeSpan.FromMilliseconds(100),
            "the commit 100 ms behind came in the same read, not a second wake-up and linger later");

    }

    /// <summary>A subscription from the start of the log that records each event's id and when it arrived; stops when disposed.</summary>
    private sealed class Follower : IAsyncDisposable
    {
        private readonly CancellationTokenSource stop;
        private readonly Task follow;

        public Channel<(Guid Id, long At)> Seen { get; } = Channel.CreateUnbounded<(Guid Id, long At)>();

        private Follower(PostgresEventStore store, CancellationToken ct)
        {
            stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            follow = Task.Run(async () =>
            {
                try
                {
                    await foreach (var e in store.SubscribeToAll(LogPosition.Start, stop.Token))
                        await Seen.Writer.WriteAsync((e.EventId, Stopwatch.GetTimestamp()), stop.Token);
                }
                catch (OperationCanceledException) { }
            });
        }

        public static Follower Start(PostgresEventStore store, CancellationToken ct) => new(store, ct);

        public async ValueTask DisposeAsync()
        {
            stop.Cancel();
            await follow;
            stop.Dispose();
        }
    }
}
