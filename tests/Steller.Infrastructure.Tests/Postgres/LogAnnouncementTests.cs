using System.Diagnostics;
using System.Threading.Channels;
using FluentAssertions;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using NUnit.Framework;
using Steller.Application.EventStore;
using Steller.Infrastructure.Postgres;
using Steller.Testing;

namespace Steller.Infrastructure.Tests.Postgres;

/// <summary>
/// A node announces its appends to the other nodes (NOTIFY) only while another process listens on the database
/// (<see cref="LogNotifications"/>): alone it sends none, a node that starts listening is announced to at once and wakes on
/// the first node's appends, and when it stops the first node falls silent again.
/// </summary>
public sealed class LogAnnouncementTests
{
    private sealed record Node(LogNotifications Notifications, PostgresEventStore Store) : IAsyncDisposable
    {
        public static Node On(TestDatabase db, TimeSpan idleWait)
        {
            var notifications = new LogNotifications(db.DataSource, NullLogger<LogNotifications>.Instance);
            return new Node(notifications, new PostgresEventStore(db.DataSource, notifications,
                new PostgresEventStoreOptions { ListeningIdleWait = idleWait }));
        }

        /// <summary>Follows the log from its end into <paramref name="seen"/> until <paramref name="ct"/> ends.</summary>
        public Task Follow(ChannelWriter<(Guid Id, long At)> seen, CancellationToken ct) => Task.Run(async () =>
        {
            try
            {
                await foreach (var e in Store.SubscribeToAll(LogPosition.Start, ct))
                    await seen.WriteAsync((e.EventId, Stopwatch.GetTimestamp()), ct);
            }
            catch (OperationCanceledException) { }
        }, CancellationToken.None);

        public async Task Listening(CancellationToken ct)
        {
            while (!Notifications.IsListening) await Task.Delay(50, ct);
        }

        public ValueTask DisposeAsync() => Notifications.DisposeAsync();
    }

    [Test, CancelAfter(60_000)]
    public async Task a_node_alone_on_its_database_announces_nothing(CancellationToken ct)
    {
        await using var db = await TestDatabase.Create("announce_alone");
        // A bare LISTEN (not a node: it holds no listeners' lock) sees whatever is sent on the channel.
        await using var raw = await db.DataSource.OpenConnectionAsync(ct);
        var heard = 0;
        raw.Notification += (_, _) => Interlocked.Increment(ref heard);
        await using (var listen = new NpgsqlCommand($"listen {LogNotifications.Channel}", raw)) await listen.ExecuteNonQueryAsync(ct);

        await using var node = Node.On(db, TimeSpan.FromSeconds(10));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var seen = Channel.CreateUnbounded<(Guid Id, long At)>();
        var follow = node.Follow(seen.Writer, stop.Token);
        await node.Listening(ct);
        while (await raw.WaitAsync(TimeSpan.FromMilliseconds(300), ct)) { } // its hello on start
        heard.Should().Be(1, "a node that starts listening says hello once");
        Interlocked.Exchange(ref heard, 0);

        for (var i = 0; i < 5; i++)
        {
            var e = Events.Make("test.alone.v1");
            await node.Store.Append(Events.Stream(), ExpectedRevision.NoStream, [e], ct);
            (await seen.Reader.ReadAsync(ct)).Id.Should().Be(e.EventId, "its own appends still wake its subscribers at once");
        }
        await Task.Delay(500, ct);
        while (await raw.WaitAsync(TimeSpan.FromMilliseconds(300), ct)) { } // deliver anything pending

        node.Notifications.AnnouncementsSent.Should().Be(0);
        node.Notifications.AnnouncementsSkipped.Should().BeGreaterThan(0);
        heard.Should().Be(0, "no NOTIFY is sent while no other node listens");
        stop.Cancel();
        await follow;
    }

    [Test, CancelAfter(90_000)]
    public async Task a_node_that_starts_listening_wakes_at_once_on_another_nodes_appends_and_silence_returns_when_it_stops(CancellationToken ct)
    {
        await using var db = await TestDatabase.Create("announce_two");
        await using var first = Node.On(db, TimeSpan.FromSeconds(10));
        using var stopFirst = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var seenByFirst = Channel.CreateUnbounded<(Guid Id, long At)>();
        var followFirst = first.Follow(seenByFirst.Writer, stopFirst.Token);
        await first.Listening(ct);
        await first.Store.Append(Events.Stream(), ExpectedRevision.NoStream, [Events.Make("test.before.v1")], ct);
        await seenByFirst.Reader.ReadAsync(ct);
        first.Notifications.AnnouncementsSent.Should().Be(0, "alone so far");

        // A second node: its subscription polls every 10 s when idle, so only an announcement wakes it sooner.
        var second = Node.On(db, TimeSpan.FromSeconds(10));
        using var stopSecond = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var seenBySecond = Channel.CreateUnbounded<(Guid Id, long At)>();
        var followSecond = second.Follow(seenBySecond.Writer, stopSecond.Token);
        await second.Listening(ct);
        await seenBySecond.Reader.ReadAsync(ct); // the event before it started
        await Task.Delay(3_000, ct); // idle: its next poll is seconds away

        var announced = Events.Make("test.announced.v1");
        var appended = Stopwatch.GetTimestamp();
        await first.Store.Append(Events.Stream(), ExpectedRevision.NoStream, [announced], ct);
        var woke = await seenBySecond.Reader.ReadAsync(ct);
        woke.Id.Should().Be(announced.EventId);
        Stopwatch.GetElapsedTime(appended, woke.At).Should().BeLessThan(TimeSpan.FromSeconds(1.5),
            "the first node heard the second one's hello and announced its append");
        first.Notifications.AnnouncementsSent.Should().BeGreaterThan(0);

        // The second node stops: its session lets go of the listeners' lock, and the first node falls silent again.
        stopSecond.Cancel();
        await followSecond;
        await second.DisposeAsync();
        var deadline = Stopwatch.StartNew();
        long sentBefore;
        do
        {
            await Task.Delay(LogNotifications.OthersSeenMemory + LogNotifications.OthersCheckInterval, ct);
            sentBefore = first.Notifications.AnnouncementsSent;
            await first.Store.Append(Events.Stream(), ExpectedRevision.NoStream, [Events.Make("test.after.v1")], ct);
            await seenByFirst.Reader.ReadAsync(ct);
            await Task.Delay(200, ct);
        } while (first.Notifications.AnnouncementsSent != sentBefore && deadline.Elapsed < TimeSpan.FromSeconds(30));
        first.Notifications.AnnouncementsSent.Should().Be(sentBefore, "nobody else listens any more");
        stopFirst.Cancel();
        await followFirst;
    }
}
