using System.Collections.Concurrent;
using FluentAssertions;
using Grpc.Core;
using NUnit.Framework;
using Steller.Application.EventStore;
using Steller.Domain;
using Steller.EventStoreDb.Tests.Fake;
using Steller.Infrastructure.EventStoreDb;
using Steller.Testing;

namespace Steller.EventStoreDb.Tests;

/// <summary>The $all subscription loop against the fake: filtering, checkpoints, drops, restarts, cancellation.</summary>
public sealed class SubscriptionTests
{
    private FakeEventStoreServer server = null!;
    private readonly List<EventStoreDbEventStore> stores = [];
    private readonly ConcurrentQueue<Exception> drops = new();

    [SetUp]
    public async Task StartServer()
    {
        drops.Clear();
        stores.Clear();
        server = await FakeEventStoreServer.Start();
    }

    [TearDown]
    public async Task StopServer()
    {
        foreach (var s in stores) s.Dispose();
        await server.DisposeAsync();
    }

    private EventStoreDbEventStore Store(EventStoreDbOptions? options = null, string? connection = null)
    {
        options ??= new EventStoreDbOptions();
        var store = new EventStoreDbEventStore(connection ?? server.ConnectionString, options with
        {
            StreamPrefixes = [.. options.StreamPrefixes, "test-"], // the tests' own streams, besides Steller's

            ReconnectMinDelay = TimeSpan.FromMilliseconds(20),
            ReconnectMaxDelay = TimeSpan.FromMilliseconds(200),
            SubscriptionDropped = (e, _) => drops.Enqueue(e),
        });
        stores.Add(store);
        return store;
    }

    /// <summary>Runs a subscription in the background, collecting what it yields.</summary>
    private sealed class Collector
    {
        public readonly ConcurrentQueue<LogItem> Items = new();
        public Task Running = Task.CompletedTask;
        public List<RecordedEvent> Events => Items.Where(i => i.Event is not null).Select(i => i.Event!).ToList();
        public List<LogPosition> Checkpoints => Items.Where(i => i.IsCheckpoint).Select(i => i.Position).ToList();
    }

    private static Collector Collect(ICheckpointingLog log, LogPosition after, CancellationToken ct)
    {
        var c = new Collector();
        c.Running = Task.Run(async () =>
        {
            await foreach (var item in log.SubscribeToAllWithCheckpoints(after, ct)) c.Items.Enqueue(item);
        }, CancellationToken.None);
        return c;
    }

    private static async Task<List<EventData>> AppendEach(IEventStore store, string stream, int count)
    {
        var events = Events.Many(count).ToList();
        foreach (var e in events) await store.Append(stream, ExpectedRevision.Any, [e]);
        return events;
    }

    private static Task Until(Func<bool> condition, string what) =>
        Eventually.True(() => Task.FromResult(condition()), TimeSpan.FromSeconds(15), what);

    [Test]
    public async Task history_then_live_events_arrive_in_log_order_without_system_events()
    {
        var store = Store();
        var stream = Events.Stream();
        var history = await AppendEach(store, stream, 5);
        server.Log.AppendSystemEvents(3);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var c = Collect(store, LogPosition.Start, cts.Token);
        await Until(() => c.Events.Count == 5, "history arrived");

        var live = await AppendEach(store, stream, 3);
        server.Log.AppendSystemEvents(3);
        await Until(() => c.Events.Count == 8, "live events arrived");

        c.Events.Select(e => e.EventId).Should().Equal(history.Concat(live).Select(e => e.EventId));
        c.Events.Should().OnlyContain(e => !e.Type.StartsWith('$'));
        c.Events.Select(e => e.Position).Should().BeInAscendingOrder();
        drops.Should().BeEmpty();
    }

    [Test]
    public async Task the_log_is_stellers_streams_and_configured_prefixes_add_to_them_never_replace_them()
    {
        var store = Store(new EventStoreDbOptions { StreamPrefixes = ["extra-"] });
        await store.Append(Events.Stream("wallet"), ExpectedRevision.NoStream, [Events.Make()]);
        await store.Append(Events.Stream("other"), ExpectedRevision.NoStream, [Events.Make()]);
        await store.Append(Events.Stream("extra"), ExpectedRevision.NoStream, [Events.Make()]);
        await store.Append(Events.Stream("partner"), ExpectedRevision.NoStream, [Events.Make()]);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var c = Collect(store, LogPosition.Start, cts.Token);
        await Until(() => c.Events.Count == 3, "the three events of the log arrived");
        await Task.Delay(200);
        c.Events.Select(e => e.StreamId.Split('-')[0]).Should().Equal("wallet", "extra", "partner");
        server.Log.LastAllFilter!.StreamIdentifier.Prefix.Should().Equal([.. StellerStreams.Prefixes, "extra-", "test-"]);
        (await store.ReadAll(LogPosition.Start, 100)).Should().HaveCount(3, "ReadAll reads the same filtered log");
    }

    [Test]
    public async Task filtered_checkpoints_are_reported_in_order_and_resuming_after_one_loses_nothing()
    {
        var store = Store(new EventStoreDbOptions { SubscriptionFilterWindow = 4, CheckpointIntervalMultiplier = 2 });
        var stream = Events.Stream();
        var first = await AppendEach(store, stream, 3);
        server.Log.AppendSystemEvents(40); // traffic the subscription scans but never delivers
        var second = await AppendEach(store, stream, 3);

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var c = Collect(store, LogPosition.Start, cts.Token);
        await Until(() => c.Events.Count == 6, "all events arrived");
        var items = c.Items.ToList();
        c.Checkpoints.Should().NotBeEmpty("the server checkpoints every window × multiplier events scanned");
        items.Select(i => i.Position).Should().BeInAscendingOrder().And.OnlyHaveUniqueItems();
        await cts.CancelAsync();

        // A consumer that persisted a checkpoint taken between the two groups resumes with exactly the second group.
        var lastFirst = c.Events[2].Position;
        var checkpoint = c.Checkpoints.Where(p => p > lastFirst && p < c.Events[3].Position).Should().NotBeEmpty().And.Subject.Last();
        using var again = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var resumed = Collect(store, checkpoint, again.Token);
        await Until(() => resumed.Events.Count == 3, "the second group arrived again");
        await Task.Delay(200);
        resumed.Events.Select(e => e.EventId).Should().Equal(second.Select(e => e.EventId));
        first.Should().HaveCount(3);
    }

    [TestCase(true, TestName = "a_reset_live_call_resumes_after_its_last_event_without_loss_or_duplicates")]
    [TestCase(false, TestName = "a_live_call_ended_unavailable_resumes_after_its_last_event_without_loss_or_duplicates")]
    public async Task a_dropped_live_call_resumes(bool reset)
    {
        var store = Store();
        var stream = Events.Stream();
        var before = await AppendEach(store, stream, 10);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var c = Collect(store, LogPosition.Start, cts.Token);
        await Until(() => c.Events.Count == 10 && server.Subscriptions.Active == 1, "caught up");

        server.Subscriptions.KillAll(reset).Should().Be(1);
        var after = await AppendEach(store, stream, 10);
        await Until(() => c.Events.Count >= 20, "the events after the drop arrived");
        await Task.Delay(300);

        c.Events.Select(e => e.EventId).Should().Equal(before.Concat(after).Select(e => e.EventId), "nothing lost, nothing twice");
        drops.Should().NotBeEmpty();
        server.Subscriptions.Started.Should().BeGreaterThanOrEqualTo(2);
    }

    [Test]
    public async Task a_call_dropped_in_the_middle_of_history_resumes_without_loss_or_duplicates()
    {
        var store = Store();
        var stream = Events.Stream();
        var all = await AppendEach(store, stream, 50);
        server.Subscriptions.KillNextAfter(20);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var c = Collect(store, LogPosition.Start, cts.Token);
        await Until(() => c.Events.Count >= 50, "all history arrived");
        await Task.Delay(200);

        c.Events.Select(e => e.EventId).Should().Equal(all.Select(e => e.EventId));
        drops.Should().ContainSingle();
        server.Subscriptions.Started.Should().Be(2);
    }

    [Test]
    public async Task a_server_restart_is_waited_out_with_backoff_and_the_subscription_resumes()
    {
        var store = Store();
        var stream = Events.Stream();
        var before = await AppendEach(store, stream, 5);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var c = Collect(store, LogPosition.Start, cts.Token);
        await Until(() => c.Events.Count == 5, "caught up");

        await server.Restart(TimeSpan.FromMilliseconds(600));
        // Right after the restart an append may still fail fast while the channel reconnects: a caller retries it.
        List<EventData> after = [];
        await Eventually.True(async () =>
        {
            try { after = await AppendEach(store, stream, 5); return true; }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable) { return false; }
        }, TimeSpan.FromSeconds(10), "an append went through after the restart");
        await Until(() => c.Events.Count >= 10 || c.Running.IsCompleted, "events after the restart arrived");
        if (c.Running.IsCompleted) { try { await c.Running; } catch (Exception e) { Assert.Fail($"the subscription ended: {e}"); } }
        await Task.Delay(200);

        c.Events.Select(e => e.EventId).Should().Equal(before.Concat(after).Select(e => e.EventId));
        drops.Count.Should().BeGreaterThan(1, "the server was away for several attempts");
    }

    [Test]
    public async Task a_subscription_has_no_deadline_even_when_operations_do()
    {
        var store = Store(connection: server.ConnectionString + "&defaultDeadline=150");
        var stream = Events.Stream();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var c = Collect(store, LogPosition.Start, cts.Token);
        await Task.Delay(700); // idle well past the operation deadline
        await store.Append(stream, ExpectedRevision.NoStream, [Events.Make()]);
        await Until(() => c.Events.Count == 1, "the live event arrived");
        drops.Should().BeEmpty("a deadline would have ended the call with DeadlineExceeded");
        server.Subscriptions.Started.Should().Be(1);
    }

    [Test]
    public async Task cancelling_ends_the_subscription_with_operation_canceled_not_an_rpc_exception()
    {
        var store = Store();
        await store.Append(Events.Stream(), ExpectedRevision.NoStream, Events.Many(2));
        using var cts = new CancellationTokenSource();
        var c = Collect(store, LogPosition.Start, cts.Token);
        await Until(() => c.Events.Count == 2, "caught up");
        await cts.CancelAsync();

        var ended = async () => await c.Running.WaitAsync(TimeSpan.FromSeconds(10));
        await ended.Should().ThrowAsync<OperationCanceledException>();
        c.Running.Exception?.InnerException.Should().NotBeOfType<RpcException>();
        drops.Should().BeEmpty();
    }

    [Test]
    public async Task disposing_the_store_ends_its_subscriptions_instead_of_resubscribing()
    {
        var store = Store();
        await store.Append(Events.Stream(), ExpectedRevision.NoStream, [Events.Make()]);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var c = Collect(store, LogPosition.Start, cts.Token);
        await Until(() => c.Events.Count == 1, "caught up");
        store.Dispose();
        var ended = async () => await c.Running.WaitAsync(TimeSpan.FromSeconds(10));
        await ended.Should().ThrowAsync<ObjectDisposedException>();
        drops.Should().BeEmpty();
    }

    [Test]
    public async Task more_than_a_hundred_subscriptions_share_the_server_and_appends_still_go_through()
    {
        // EventStoreDB (and the fake) allow 100 streams per HTTP/2 connection; the adapter must open more connections.
        var store = Store();
        var stream = Events.Stream();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var subscribers = Enumerable.Range(0, 110).Select(_ => Collect(store, LogPosition.Start, cts.Token)).ToList();
        await Until(() => server.Subscriptions.Active == 110, "all subscriptions are live");

        using var appendTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await store.Append(stream, ExpectedRevision.NoStream, [Events.Make()], appendTimeout.Token);
        await Until(() => subscribers.All(s => s.Events.Count == 1), "every subscriber got the event");
    }
}
