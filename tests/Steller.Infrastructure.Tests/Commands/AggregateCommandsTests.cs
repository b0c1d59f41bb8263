using FluentAssertions;
using Microsoft.Extensions.Logging.Abstractions;
using NUnit.Framework;
using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Application.Serialization;
using Steller.Domain;
using Steller.Domain.Inventory;
using Steller.Domain.Wallets;
using Steller.Testing;

namespace Steller.Infrastructure.Tests.Commands;

/// <summary>The per-stream command pipeline on a real PostgreSQL event store.</summary>
public sealed class AggregateCommandsTests
{
    [Test, CancelAfter(120_000)]
    public async Task idle_streams_hold_no_lane_and_a_busy_stream_never_gets_two()
    {
        await using var db = await TestDatabase.Create("lanes");
        var store = db.CreateEventStore();
        var commands = new AggregateCommands<Stock, IStockCommand, IStockEvent>(Aggregates.StockItems, store, EventTypeRegistry.ForDomain(), NullLogger.Instance);
        var meta = new EventMetadata("c", "c", Guid.NewGuid(), "test", DateTimeOffset.UtcNow);

        // 2,000 streams touched once each: afterwards nothing is left behind.
        await Task.WhenAll(Enumerable.Range(0, 2_000).Select(i =>
            commands.Execute($"stock-s{i}.main", s => Stock.Decide(new ReceiveStock("r", 1, 1, "EUR"), s), meta)));
        // (a lane retires just after its last command completes, so allow it that moment)
        await Eventually.True(() => Task.FromResult(commands.OpenLanes == 0), TimeSpan.FromSeconds(10), "every lane retired");

        // One stream hammered in waves, so lanes retire and reopen between them: every receipt lands once, in one sequence.
        for (var wave = 0; wave < 20; wave++)
        {
            await Task.WhenAll(Enumerable.Range(0, 50).Select(i =>
                commands.Execute("stock-hot.main", s => Stock.Decide(new ReceiveStock($"w{wave}-{i}", 1, 1, "EUR"), s), meta)));
            if (wave % 2 == 0) await Task.Yield();
        }
        var events = (await store.ReadStream("stock-hot.main")).Events;
        events.Should().HaveCount(1_000);
        events.Select(e => (long)e.Revision.Value).Should().Equal(Enumerable.Range(0, 1_000).Select(i => (long)i));
        await Eventually.True(() => Task.FromResult(commands.OpenLanes == 0), TimeSpan.FromSeconds(10), "the hot lane retired too");
    }

    [Test, CancelAfter(120_000)]
    public async Task a_node_with_a_stale_cache_reads_the_other_nodes_events_before_refusing_a_command()
    {
        await using var db = await TestDatabase.Create("stale_refusal");
        var store = db.CreateEventStore();
        var registry = EventTypeRegistry.ForDomain();
        var nodeA = new AggregateCommands<Wallet, IWalletCommand, IWalletEvent>(Aggregates.Wallets, store, registry, NullLogger.Instance);
        var nodeB = new AggregateCommands<Wallet, IWalletCommand, IWalletEvent>(Aggregates.Wallets, store, registry, NullLogger.Instance);
        var meta = new EventMetadata("c", "c", Guid.NewGuid(), "test", DateTimeOffset.UtcNow);
        var stream = Wallet.StreamName("stale", "EUR");
        (await nodeB.Execute(stream, new OpenWallet("stale", "EUR"), meta)).Error.Should().BeNull();
        (await nodeB.Load(stream)).State.Spendable.Should().Be(0, "node B has cached the empty wallet");

        // Node A funds the wallet and places a hold: node B's cache knows of neither.
        (await nodeA.Execute(stream, new Deposit("fund", 10_000, "bank"), meta)).Error.Should().BeNull();
        (await nodeA.Execute(stream, new PlaceHold("from-a", 4_000, null, null, DateTimeOffset.UtcNow), meta)).Error.Should().BeNull();

        // On its stale cache node B would refuse both (no funds; no such hold); it must read node A's events and accept them.
        var hold = await nodeB.Execute(stream, new PlaceHold("from-b", 5_000, null, null, DateTimeOffset.UtcNow), meta);
        hold.Error.Should().BeNull("node A's deposit is in the stream");
        var capture = await nodeB.Execute(stream, new CaptureHold("from-a", 4_000, null), meta);
        capture.Error.Should().BeNull("node A's hold is in the stream");
        // A refusal that stands after reading the stream is still a refusal.
        var tooMuch = await nodeB.Execute(stream, new PlaceHold("too-much", 1_001, null, null, DateTimeOffset.UtcNow), meta);
        tooMuch.Error.Should().NotBeNull("10,000 - 4,000 captured - 5,000 held leaves 1,000");
        (await store.ReadStream(stream)).Events.Should().HaveCount(5, "opened, deposited, two holds, one capture");
    }

    [Test, CancelAfter(60_000)]
    public async Task load_immutable_answers_a_cached_stream_without_reading_and_loads_one_it_does_not_hold()
    {
        await using var db = await TestDatabase.Create("load_immutable");
        var store = db.CreateEventStore();
        var registry = EventTypeRegistry.ForDomain();
        var nodeA = new AggregateCommands<Stock, IStockCommand, IStockEvent>(Aggregates.StockItems, store, registry, NullLogger.Instance);
        var nodeB = new AggregateCommands<Stock, IStockCommand, IStockEvent>(Aggregates.StockItems, store, registry, NullLogger.Instance);
        var meta = new EventMetadata("c", "c", Guid.NewGuid(), "test", DateTimeOffset.UtcNow);
        const string stream = "stock-immutable.main";
        (await nodeA.Execute(stream, s => Stock.Decide(new ReceiveStock("r1", 1, 1, "EUR"), s), meta)).Error.Should().BeNull();
        (await nodeB.Execute(stream, s => Stock.Decide(new ReceiveStock("r2", 1, 1, "EUR"), s), meta)).Error.Should().BeNull();

        // Node A holds the stream at its own append: it answers that without reading (so without node B's receipt)...
        (await nodeA.LoadImmutable(stream)).OnHand.Should().Be(1, "LoadImmutable did not read the stream");
        var (fresh, revision) = await nodeA.Load(stream);
        (fresh.OnHand, revision).Should().Be((2L, 1L), "Load reads node B's receipt");
        // ...and a node that does not hold a stream loads it.
        var nodeC = new AggregateCommands<Stock, IStockCommand, IStockEvent>(Aggregates.StockItems, store, registry, NullLogger.Instance);
        (await nodeC.LoadImmutable(stream)).OnHand.Should().Be(2);
    }

    [Test, CancelAfter(60_000)]
    public async Task a_command_on_a_new_stream_is_decided_unread_and_one_that_finds_the_stream_there_is_decided_again_on_it()
    {
        await using var db = await TestDatabase.Create("execute_on_new");
        var store = new ReadCounting(db.CreateEventStore());
        var registry = EventTypeRegistry.ForDomain();
        var nodeA = new AggregateCommands<Stock, IStockCommand, IStockEvent>(Aggregates.StockItems, store, registry, NullLogger.Instance);
        var nodeB = new AggregateCommands<Stock, IStockCommand, IStockEvent>(Aggregates.StockItems, store, registry, NullLogger.Instance);
        var meta = new EventMetadata("c", "c", Guid.NewGuid(), "test", DateTimeOffset.UtcNow);

        // New: appended as "no stream" without a read, and cached at its revision.
        var created = await nodeA.ExecuteOnNew("stock-new.main", new ReceiveStock("r1", 5, 1, "EUR"), meta);
        (created.Error, created.Revision, store.Reads).Should().Be((null, 0L, 0), "a new stream is not read");
        nodeA.TryCachedAt("stock-new.main", 0, out var cached).Should().BeTrue();
        cached.OnHand.Should().Be(5);
        nodeA.TryCachedAt("stock-new.main", 1, out _).Should().BeFalse("the cache holds revision 0, not 1");

        // Node B takes the stream for new: its append meets node A's event, so it reads the stream and decides again.
        var second = await nodeB.ExecuteOnNew("stock-new.main", new ReceiveStock("r2", 3, 1, "EUR"), meta);
        (second.Error, second.Revision, second.State.OnHand).Should().Be((null, 1L, 8L), "decided again on node A's receipt");
        // A refusal on the empty state is not trusted either: node C reads the stream before refusing a reservation.
        var nodeC = new AggregateCommands<Stock, IStockCommand, IStockEvent>(Aggregates.StockItems, store, registry, NullLogger.Instance);
        var reads = store.Reads;
        var reserved = await nodeC.ExecuteOnNew("stock-new.main", new ReserveStock("res-1", 7, "o-1", null, DateTimeOffset.UtcNow), meta);
        reserved.Error.Should().BeNull("8 are on hand in the stream, though none in the empty state it first decided on");
        store.Reads.Should().BeGreaterThan(reads);
        // A repeat of a command already in the stream is a no-op the stream confirms, not a second event.
        var repeat = await new AggregateCommands<Stock, IStockCommand, IStockEvent>(Aggregates.StockItems, store, registry, NullLogger.Instance)
            .ExecuteOnNew("stock-new.main", new ReceiveStock("r1", 5, 1, "EUR"), meta);
        (repeat.Error, repeat.NewEvents.Count, repeat.Revision).Should().Be((null, 0, 2L));
        (await store.ReadStream("stock-new.main")).Events.Should().HaveCount(3, "two receipts and a reservation");
    }

    /// <summary>The store, counting the stream reads made through it.</summary>
    private sealed class ReadCounting(IEventStore inner) : IEventStore
    {
        private int reads;
        public int Reads => Volatile.Read(ref reads);

        public Task<AppendResult> Append(string streamId, ExpectedRevision expected, IReadOnlyList<EventData> events, CancellationToken ct = default) =>
            inner.Append(streamId, expected, events, ct);

        public Task<StreamSlice> ReadStream(string streamId, ReadDirection direction = ReadDirection.Forwards, StreamRevision? from = null,
            int maxCount = int.MaxValue, CancellationToken ct = default)
        {
            Interlocked.Increment(ref reads);
            return inner.ReadStream(streamId, direction, from, maxCount, ct);
        }

        public Task<IReadOnlyList<RecordedEvent>> ReadAll(LogPosition after, int maxCount, CancellationToken ct = default) => inner.ReadAll(after, maxCount, ct);

        public IAsyncEnumerable<RecordedEvent> SubscribeToAll(LogPosition after, CancellationToken ct = default) => inner.SubscribeToAll(after, ct);
    }
}
