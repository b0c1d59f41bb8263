using System.Text;
using FluentAssertions;
using Microsoft.Extensions.Logging.Abstractions;
using NUnit.Framework;
using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Application.Serialization;
using Steller.Domain;
using Steller.Domain.Wallets;
using Steller.Infrastructure.Postgres;
using Steller.Testing;

namespace Steller.Infrastructure.Tests.Commands;

/// <summary>
/// The wallet's bounded memory on a real PostgreSQL (docs/architecture.md, "The wallet's idempotency memory"): lean states,
/// their snapshots and the lookup by transfer id (migration 0019) decide every command as the full fold of the stream does.
/// </summary>
public sealed class WalletMemoryTests
{
    private static readonly EventTypeRegistry Registry = EventTypeRegistry.ForDomain();
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);

    private static AggregateCommands<Wallet, IWalletCommand, IWalletEvent> Wallets(TestDatabase db, IEventStore store, int every, int rememberAtMost) =>
        new(Aggregates.Wallets, store, Registry, NullLogger.Instance, snapshots: new PostgresSnapshotStore(db.DataSource),
            snapshotSettings: new SnapshotSettings(every), rememberAtMost: rememberAtMost);

    private static EventMetadata Meta() => new("c", "c", Guid.NewGuid(), "test", Now);

    [Test, CancelAfter(600_000)]
    public async Task every_command_through_two_lean_nodes_with_restarts_decides_as_the_full_fold_of_the_stream()
    {
        await using var db = await TestDatabase.Create("memory_prop");
        var store = db.CreateEventStore();
        var recalls = 0L;
        await Task.WhenAll(Enumerable.Range(0, 24).Select(seed => Task.Run(async () =>
        {
            var random = new Random(seed);
            var stream = Wallet.StreamName($"m{seed}", "EUR");
            var remember = random.Next(0, 5);
            var every = random.Next(3, 30);
            var nodes = new[] { Wallets(db, store, every, remember), Wallets(db, store, every, remember) };
            var commands = new Commands(random);
            await nodes[0].Execute(stream, new OpenWallet($"m{seed}", "EUR"), Meta());
            for (var step = 0; step < 150; step++)
            {
                var full = await FullFold(store, stream);
                var command = commands.Next(full);
                var expected = Wallet.Decide(command, full);
                var i = random.Next(2);
                if (random.Next(15) == 0)
                {
                    // A restart: the node loads from the (lean) snapshot and the tail.
                    await nodes[i].SnapshotWrites();
                    Interlocked.Add(ref recalls, nodes[i].EventsRecalled);
                    nodes[i] = Wallets(db, store, every, remember);
                }
                var outcome = await nodes[i].Execute(stream, command, Meta());
                Describe(outcome.Error, outcome.NewEvents).Should().Be(Describe(expected.Error, expected.Events), $"seed {seed}, step {step}: {command}");
            }
            await Task.WhenAll(nodes.Select(n => n.SnapshotWrites()));
            Interlocked.Add(ref recalls, nodes.Sum(n => n.EventsRecalled));
        })));
        recalls.Should().BeGreaterThan(500, "forgotten records were recalled from the store");
    }

    [Test, CancelAfter(600_000)]
    public async Task hundreds_of_parallel_commands_and_repeats_from_two_lean_nodes_leave_the_full_folds_balance_and_answer_repeats_as_the_first()
    {
        await using var db = await TestDatabase.Create("memory_race");
        var store = db.CreateEventStore();
        var stream = Wallet.StreamName("race", "EUR");
        var nodeA = Wallets(db, store, every: 7, rememberAtMost: 3);
        var nodeB = Wallets(db, store, every: 5, rememberAtMost: 0);
        await nodeA.Execute(stream, new OpenWallet("race", "EUR"), Meta());
        await nodeA.Execute(stream, new Deposit("fund", 1_000_000, "bank"), Meta());

        var captured = 0L;
        await Task.WhenAll(Enumerable.Range(0, 200).Select(i => Task.Run(async () =>
        {
            var (node, other) = i % 2 == 0 ? (nodeA, nodeB) : (nodeB, nodeA);
            var id = $"h{i}";
            (await node.Execute(stream, new PlaceHold(id, 100 + i, null, null, Now), Meta())).Error.Should().BeNull();
            if (i % 3 == 0) (await other.Execute(stream, new ReleaseHold(id, "cancel"), Meta())).Error.Should().BeNull();
            else
            {
                (await other.Execute(stream, new CaptureHold(id, 50 + i, null), Meta())).Error.Should().BeNull();
                Interlocked.Add(ref captured, 50 + i);
            }
            // Repeats on either node, after the hold closed (and was most likely forgotten): answered as the first time.
            var repeat = await node.Execute(stream, new PlaceHold(id, 100 + i, null, null, Now), Meta());
            repeat.Error.Should().BeNull();
            repeat.NewEvents.Should().BeEmpty("the same hold again is already done");
            (await other.Execute(stream, new PlaceHold(id, 1, null, null, Now), Meta())).Error!.Code.Should().Be(WalletErrors.IdempotencyConflict.Code);
            var again = i % 3 == 0 ? await node.Execute(stream, new ReleaseHold(id, "again"), Meta())
                : await node.Execute(stream, new CaptureHold(id, 50 + i, null), Meta());
            again.Error.Should().BeNull();
            again.NewEvents.Should().BeEmpty();
            (await other.Execute(stream, new Deposit(id, 1, "bank"), Meta())).Error!.Code.Should().Be(WalletErrors.IdempotencyConflict.Code);
        })));
        await Task.WhenAll(nodeA.SnapshotWrites(), nodeB.SnapshotWrites());

        var full = await FullFold(store, stream);
        full.Posted.Should().Be(1_000_000 - captured);
        full.Pending.Should().Be(0);
        (nodeA.EventsRecalled + nodeB.EventsRecalled).Should().BeGreaterThan(0);
        var restarted = Wallets(db, store, every: 1_000_000, rememberAtMost: 3);
        var (state, _) = await restarted.Load(stream);
        state.Lean.Should().BeTrue();
        (state.Posted, state.Pending, state.Holds.Count(h => h.Value.Status == HoldStatus.Open)).Should().Be((full.Posted, 0L, 0));
        state.Holds.Count.Should().BeLessThanOrEqualTo(3, "closed holds past the bound are forgotten");
        (await restarted.Execute(stream, new Deposit("fund", 1_000_000, "bank"), Meta())).NewEvents.Should().BeEmpty("the first deposit, recalled");
    }

    [Test, CancelAfter(300_000)]
    public async Task a_lean_snapshot_is_small_and_a_store_without_the_lookup_ignores_it_and_folds_in_full()
    {
        await using var db = await TestDatabase.Create("memory_snapshot");
        var store = db.CreateEventStore();
        var stream = Wallet.StreamName("long", "EUR");
        var writer = Wallets(db, store, every: 500, rememberAtMost: Wallet.RememberAtMost);
        await writer.Execute(stream, new OpenWallet("long", "EUR"), Meta());
        await writer.Execute(stream, new Deposit("fund", 10_000_000, "bank"), Meta());
        for (var wave = 0; wave < 15; wave++)
            await Task.WhenAll(Enumerable.Range(0, 100).Select(async i =>
            {
                var id = $"h{wave}-{i}";
                await writer.Execute(stream, new PlaceHold(id, 10, null, null, Now), Meta());
                await writer.Execute(stream, new CaptureHold(id, 10, null), Meta());
            }));
        await writer.SnapshotWrites();
        var snapshot = (await new PostgresSnapshotStore(db.DataSource).Read(stream))!;
        var format = new SnapshotFormat<Wallet>("wallet", Wallet.SnapshotVersion, typeof(IWalletEvent), Registry);
        var stored = format.Deserialize(snapshot.State);
        stored.Lean.Should().BeTrue("1,500 closed holds are past the bound");
        (stored.Holds.Count + stored.Transfers.Count).Should().BeLessThanOrEqualTo(Wallet.RememberAtMost);

        // EventStoreDB has no lookup by transfer id: there the wallet keeps the full fold, and a lean snapshot is not trusted.
        var withoutLookup = new AggregateCommands<Wallet, IWalletCommand, IWalletEvent>(Aggregates.Wallets, new WithoutLookup(store), Registry,
            NullLogger.Instance, snapshots: new PostgresSnapshotStore(db.DataSource), snapshotSettings: new SnapshotSettings(1_000_000));
        var (state, revision) = await withoutLookup.Load(stream);
        var full = await FullFold(store, stream);
        revision.Should().Be(3_001);
        withoutLookup.EventsRead.Should().Be(3_002, "the lean snapshot is ignored and the stream folded from its start");
        state.Lean.Should().BeFalse();
        state.Holds.Count.Should().Be(full.Holds.Count).And.Be(1_500);
        (await withoutLookup.Execute(stream, new PlaceHold("h3-7", 10, null, null, Now), Meta())).NewEvents.Should().BeEmpty();
    }

    [Test, CancelAfter(120_000)]
    public async Task the_lookup_by_transfer_id_returns_the_streams_events_carrying_the_ids_up_to_the_revision_through_its_index()
    {
        await using var db = await TestDatabase.Create("memory_lookup");
        var store = db.CreateEventStore();
        var wallets = new AggregateCommands<Wallet, IWalletCommand, IWalletEvent>(Aggregates.Wallets, store, Registry, NullLogger.Instance);
        var stream = Wallet.StreamName("look", "EUR");
        await wallets.Execute(stream, new OpenWallet("look", "EUR"), Meta());                    // 0
        await wallets.Execute(stream, new Deposit("a", 1_000, "bank"), Meta());                   // 1
        await wallets.Execute(stream, new PlaceHold("b", 10, null, null, Now), Meta());           // 2
        await wallets.Execute(stream, new CaptureHold("b", 5, null), Meta());                     // 3
        await wallets.Execute(stream, new TransferIn("a", 7, "parent"), Meta());                  // 4
        await wallets.Execute(Wallet.StreamName("other", "EUR"), new OpenWallet("other", "EUR"), Meta());
        await wallets.Execute(Wallet.StreamName("other", "EUR"), new Deposit("a", 1, "bank"), Meta());

        var lookup = (IEventsByTransferId)store;
        (await lookup.ReadByTransferIds(stream, ["a", "b"], 10)).Select(e => e.Revision.Value).Should().Equal(1, 2, 3, 4);
        (await lookup.ReadByTransferIds(stream, ["a", "b"], 2)).Select(e => e.Revision.Value).Should().Equal(1, 2);
        (await lookup.ReadByTransferIds(stream, ["b"], 10)).Select(e => e.Type).Should().Equal("wallet.hold-placed.v1", "wallet.hold-captured.v1");
        (await lookup.ReadByTransferIds(stream, ["zzz"], 10)).Should().BeEmpty();
        // Every wallet event with a transfer id stores it under the name the index reads.
        foreach (var e in (await store.ReadStream(stream)).Events.Skip(1))
            Encoding.UTF8.GetString(e.Data.Span).Should().Contain("\"transferId\":");

        await using var conn = await db.DataSource.OpenConnectionAsync();
        await using (var off = conn.CreateCommand()) { off.CommandText = "set enable_seqscan = off"; await off.ExecuteNonQueryAsync(); }
        await using var explain = conn.CreateCommand();
        explain.CommandText = """
            explain select * from es.events
             where stream_id = 'wallet-look-EUR' and (data->>'transferId') = any(array['a']) and (data->>'transferId') is not null and revision <= 10
            """;
        var plan = new StringBuilder();
        await using (var reader = await explain.ExecuteReaderAsync())
            while (await reader.ReadAsync()) plan.AppendLine(reader.GetString(0));
        plan.ToString().Should().Contain("events_transfer_id");
    }

    // ---- helpers ----

    /// <summary>A store without <see cref="IEventsByTransferId"/>, as EventStoreDB is.</summary>
    private sealed class WithoutLookup(IEventStore inner) : IEventStore
    {
        public Task<AppendResult> Append(string streamId, ExpectedRevision expected, IReadOnlyList<EventData> events, CancellationToken ct = default) =>
            inner.Append(streamId, expected, events, ct);
        public Task<StreamSlice> ReadStream(string streamId, ReadDirection direction = ReadDirection.Forwards, StreamRevision? from = null,
            int maxCount = int.MaxValue, CancellationToken ct = default) => inner.ReadStream(streamId, direction, from, maxCount, ct);
        public Task<IReadOnlyList<RecordedEvent>> ReadAll(LogPosition after, int maxCount, CancellationToken ct = default) => inner.ReadAll(after, maxCount, ct);
        public IAsyncEnumerable<RecordedEvent> SubscribeToAll(LogPosition after, CancellationToken ct = default) => inner.SubscribeToAll(after, ct);
    }

    private static async Task<Wallet> FullFold(IEventStore store, string stream) =>
        (await store.ReadStream(stream)).Events.Aggregate(Wallet.Empty,
            (s, e) => Wallet.Evolve(s, (IWalletEvent)Registry.Deserialize(e.Type, e.Data.Span)!));

    private static string Describe(DomainError? error, IEnumerable<object> events) => error is not null ? $"error {error.Code}"
        : "events " + string.Join(";", events.Select(e => $"{Registry.NameOf(e.GetType())} {Encoding.UTF8.GetString(Registry.Serialize(e))}"));

    /// <summary>Random commands over a small pool of transfer ids: repeats with the same and with different content.</summary>
    private sealed class Commands(Random random)
    {
        private string Id()
        {
            var id = $"{(char)('a' + random.Next(6))}{random.Next(8)}";
            return random.Next(12) switch { 0 => $"in:{id}", 1 => $"return:{id}", _ => id };
        }

        private long Amount(Wallet w) => random.Next(4) switch { 0 => random.Next(1, 2_000), 1 => Math.Max(1, w.Spendable), 2 => w.Spendable + 1, _ => 100 };

        public IWalletCommand Next(Wallet w)
        {
            var holds = w.Holds.Keys.ToList();
            string AHold() => holds.Count > 0 && random.Next(3) > 0 ? holds[random.Next(holds.Count)] : Id();
            return random.Next(20) switch
            {
                < 4 => new Deposit(Id(), random.Next(2) == 0 ? 100 : random.Next(1, 10_000), "bank"),
                4 => new Withdraw(Id(), Amount(w), "payout"),
                < 9 => new PlaceHold(Id(), Amount(w), null, random.Next(2) == 0 ? "o1" : null, Now),
                < 12 => new CaptureHold(AHold(), random.Next(2) == 0 ? 100 : random.Next(0, 2_000), null),
                < 14 => new ReleaseHold(AHold(), "cancel"),
                14 => new CreditRefund(Id(), 100, "o1"),
                15 => random.Next(2) == 0 ? new FreezeWallet("r") : new UnfreezeWallet(),
                < 18 => new TransferOut(Id(), Amount(w), "child"),
                18 => new TransferIn(Id(), 100, "parent"),
                _ => new ReturnTransfer(Id(), "refused"),
            };
        }
    }
}
