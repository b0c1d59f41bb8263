using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using FluentAssertions;
using Microsoft.Extensions.Logging;
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
/// Wallet snapshots (docs/architecture.md, "Snapshots") on a real PostgreSQL: a state loaded from a snapshot and the events
/// after it always decides as the full fold does, and a snapshot that does not match is ignored.
/// </summary>
public sealed class WalletSnapshotTests
{
    private static readonly EventTypeRegistry Registry = EventTypeRegistry.ForDomain();
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);

    private static AggregateCommands<Wallet, IWalletCommand, IWalletEvent> Wallets(TestDatabase db, IEventStore store, int every,
        ILogger? logger = null) =>
        new(Aggregates.Wallets, store, Registry, logger ?? NullLogger.Instance,
            snapshots: new PostgresSnapshotStore(db.DataSource), snapshotSettings: new SnapshotSettings(every));

    private static AggregateCommands<Wallet, IWalletCommand, IWalletEvent> WalletsWithoutSnapshots(IEventStore store) =>
        new(Aggregates.Wallets, store, Registry, NullLogger.Instance);

    private static EventMetadata Meta() => new("c", "c", Guid.NewGuid(), "test", Now);

    [Test, CancelAfter(600_000)]
    public async Task a_state_from_a_snapshot_and_its_tail_decides_every_probe_as_the_full_fold_does_for_random_histories()
    {
        await using var db = await TestDatabase.Create("snapshot_prop");
        var store = db.CreateEventStore();
        var snapshotsUsed = 0;
        // 40 random wallets side by side, each with its own snapshot interval (so snapshots land at random revisions).
        await Task.WhenAll(Enumerable.Range(0, 40).Select(seed => Task.Run(async () =>
        {
            var random = new Random(seed);
            var stream = Wallet.StreamName($"p{seed}", "EUR");
            var writer = Wallets(db, store, every: random.Next(1, 40));
            var history = new History(random, $"p{seed}");
            (await writer.Execute(stream, new OpenWallet($"p{seed}", "EUR"), Meta())).Succeeded.Should().BeTrue();
            var steps = random.Next(20, 200);
            for (var i = 0; i < steps; i++)
            {
                var outcome = await writer.Execute(stream, history.Next(), Meta());
                history.Saw(outcome.State);
            }
            await writer.SnapshotWrites();

            var full = await FullFold(store, stream);
            var restarted = Wallets(db, store, every: 1_000_000); // loads from the snapshot; writes none of its own
            var (fromSnapshot, revision) = await restarted.Load(stream);
            revision.Should().Be(full.Revision);
            var at = await db.Scalar<long>($"select coalesce(max(revision), -1) from steller.snapshots where stream_id = '{stream}'");
            if (at >= 0)
            {
                restarted.EventsRead.Should().Be(full.Revision - at + 1, "only the snapshot's anchor event and the tail are read");
                Interlocked.Increment(ref snapshotsUsed);
            }
            Canonical(fromSnapshot).Should().Be(Canonical(full.State));
            foreach (var probe in history.Probes(full.State))
                Describe(Wallet.Decide(probe, fromSnapshot)).Should().Be(Describe(Wallet.Decide(probe, full.State)), $"probe {probe} on {stream}");
        })));
        snapshotsUsed.Should().BeGreaterThan(30, "nearly every history is long enough to have been snapshotted");
    }

    [Test, CancelAfter(300_000)]
    public async Task a_snapshot_written_under_another_tag_is_ignored_logged_once_and_replaced_by_the_full_fold()
    {
        await using var db = await TestDatabase.Create("snapshot_tag");
        var store = db.CreateEventStore();
        var stream = await WrittenHistory(db, store, "tagged", events: 30);
        var full = await FullFold(store, stream);
        var format = new SnapshotFormat<Wallet>("wallet", Wallet.SnapshotVersion + 1, typeof(IWalletEvent), Registry);
        format.Tag.Should().NotBe(Wallets(db, store, every: 1_000).SnapshotTag);
        WalletsWithoutSnapshots(store).SnapshotTag.Should().BeNull("an instance without a snapshot store neither reads nor writes snapshots");
        // Another fold's idea of the wallet at the very last event: a trusted tag would make it decide on a fortune.
        var rich = full.State with { Posted = 900_000_000_000 };
        await new PostgresSnapshotStore(db.DataSource).Write(new Snapshot(stream, full.Revision, full.LastEventId, format.Tag, format.Serialize(rich)), replace: true);
        await new PostgresSnapshotStore(db.DataSource).Write(new Snapshot("wallet-other-EUR", 0, Guid.NewGuid(), format.Tag, format.Serialize(rich)), replace: true);

        var logs = new LogCapture();
        var restarted = Wallets(db, store, every: 1_000_000, logs.CreateLogger("wallet"));
        var (state, revision) = await restarted.Load(stream);
        await restarted.Load("wallet-other-EUR");

        revision.Should().Be(full.Revision);
        Canonical(state).Should().Be(Canonical(full.State));
        restarted.EventsRead.Should().Be(full.Revision + 1, "the whole stream is folded");
        (await restarted.Execute(stream, new Withdraw("too-much", 800_000_000_000, "x"), Meta())).Error!.Code.Should().Be(WalletErrors.InsufficientFunds.Code);
        logs.Lines.Count(l => l.Contains("other_tag")).Should().Be(1, "an ignored snapshot is logged once per kind, then only counted");
        await restarted.SnapshotWrites();
        (await db.Scalar<string>($"select tag from steller.snapshots where stream_id = '{stream}'")).Should().Be(restarted.SnapshotTag,
            "the unusable snapshot is replaced by one of this build");
    }

    [Test, CancelAfter(300_000)]
    public async Task a_corrupt_snapshot_or_one_of_another_history_is_ignored_and_the_full_fold_is_used()
    {
        await using var db = await TestDatabase.Create("snapshot_bad");
        var store = db.CreateEventStore();
        var stream = await WrittenHistory(db, store, "corrupt", events: 30);
        var full = await FullFold(store, stream);
        var tag = Wallets(db, store, every: 1_000).SnapshotTag!;
        var snapshots = new PostgresSnapshotStore(db.DataSource);
        var format = new SnapshotFormat<Wallet>("wallet", Wallet.SnapshotVersion, typeof(IWalletEvent), Registry);
        format.Tag.Should().Be(tag);
        var cases = new (string Name, Snapshot Snapshot)[]
        {
            ("bytes that are not a snapshot", new Snapshot(stream, full.Revision, full.LastEventId, tag, [0xFF, 0x00, 0x13])),
            ("a snapshot cut short", new Snapshot(stream, full.Revision, full.LastEventId, tag, format.Serialize(full.State)[..^20])),
            ("uncompressed JSON", new Snapshot(stream, full.Revision, full.LastEventId, tag, JsonSerializer.SerializeToUtf8Bytes(full.State))),
            ("an empty snapshot", new Snapshot(stream, full.Revision, full.LastEventId, tag, [])),
            // A sound state whose anchor event is not the stream's: taken from another history of this stream (a reset store).
            ("another history", new Snapshot(stream, full.Revision, Guid.NewGuid(), tag, format.Serialize(full.State with { Posted = 1 }))),
            ("beyond the stream", new Snapshot(stream, full.Revision + 5, full.LastEventId, tag, format.Serialize(full.State with { Posted = 1 }))),
        };
        foreach (var (name, snapshot) in cases)
        {
            await snapshots.Write(snapshot, replace: true);
            var restarted = Wallets(db, store, every: 1_000_000);
            var (state, revision) = await restarted.Load(stream);
            revision.Should().Be(full.Revision, name);
            Canonical(state).Should().Be(Canonical(full.State), name);
            restarted.EventsRead.Should().BeGreaterThanOrEqualTo(full.Revision + 1, $"{name}: the whole stream is folded");
            await restarted.SnapshotWrites();
            var replaced = await snapshots.Read(stream);
            replaced!.EventId.Should().Be(full.LastEventId, $"{name}: replaced by a sound snapshot");
            Canonical(format.Deserialize(replaced.State)).Should().Be(Canonical(full.State), name);
        }
    }

    [Test, CancelAfter(600_000)]
    public async Task hundreds_of_parallel_commands_from_two_nodes_while_snapshots_are_written_leave_the_full_folds_balance()
    {
        await using var db = await TestDatabase.Create("snapshot_race");
        var store = db.CreateEventStore();
        var stream = Wallet.StreamName("race", "EUR");
        var nodeA = Wallets(db, store, every: 7);
        var nodeB = Wallets(db, store, every: 5);
        await nodeA.Execute(stream, new OpenWallet("race", "EUR"), Meta());
        await nodeA.Execute(stream, new Deposit("fund", 1_000_000, "bank"), Meta());

        // 300 holds and their captures/releases, spread over both nodes, all at once (the nodes conflict and re-read each other).
        var captured = 0L;
        await Task.WhenAll(Enumerable.Range(0, 300).Select(i => Task.Run(async () =>
        {
            var node = i % 2 == 0 ? nodeA : nodeB;
            var other = i % 2 == 0 ? nodeB : nodeA;
            // The hold on one node, its capture or release on the other, whose cache may not have seen the hold yet
            // (a refusal decided on a cached state reads the stream before it stands).
            var id = $"h{i}";
            var hold = await node.Execute(stream, new PlaceHold(id, 100 + i, null, null, Now), Meta());
            hold.Error.Should().BeNull();
            if (i % 3 == 0) (await other.Execute(stream, new ReleaseHold(id, "cancel"), Meta())).Error.Should().BeNull();
            else
            {
                (await other.Execute(stream, new CaptureHold(id, 50 + i, null), Meta())).Error.Should().BeNull();
                Interlocked.Add(ref captured, 50 + i);
            }
        })));
        await Task.WhenAll(nodeA.SnapshotWrites(), nodeB.SnapshotWrites());

        var full = await FullFold(store, stream);
        full.State.Posted.Should().Be(1_000_000 - captured);
        full.State.Pending.Should().Be(0);
        var snapshotRevision = await db.Scalar<long>($"select revision from steller.snapshots where stream_id = '{stream}'");
        snapshotRevision.Should().BeGreaterThan(500);
        var restarted = Wallets(db, store, every: 1_000_000);
        var (state, revision) = await restarted.Load(stream);
        revision.Should().Be(full.Revision);
        Canonical(state).Should().Be(Canonical(full.State));
        restarted.EventsRead.Should().Be(full.Revision - snapshotRevision + 1);
        // Every node's cached state caught up is the full fold too.
        Canonical((await nodeA.Load(stream)).State).Should().Be(Canonical(full.State));
        Canonical((await nodeB.Load(stream)).State).Should().Be(Canonical(full.State));
    }

    [Test, CancelAfter(600_000)]
    public async Task after_a_restart_the_first_command_reads_only_the_events_after_the_newest_snapshot()
    {
        await using var db = await TestDatabase.Create("snapshot_restart");
        var store = db.CreateEventStore();
        var stream = Wallet.StreamName("long", "EUR");
        var before = Wallets(db, store, every: 1_000);
        await before.Execute(stream, new OpenWallet("long", "EUR"), Meta());
        for (var wave = 0; wave < 25; wave++)
            await Task.WhenAll(Enumerable.Range(0, 100).Select(i => before.Execute(stream, new Deposit($"d{wave}-{i}", 1, "bank"), Meta())));
        await before.SnapshotWrites();
        var snapshotRevision = await db.Scalar<long>($"select revision from steller.snapshots where stream_id = '{stream}'");
        snapshotRevision.Should().BeInRange(1_999, 2_499, "a snapshot is written each time the stream passes a multiple of 1,000 events");

        var restarted = Wallets(db, store, every: 1_000); // a new process: nothing cached
        var outcome = await restarted.Execute(stream, new Withdraw("w", 2_500, "payout"), Meta());
        outcome.Error.Should().BeNull();
        outcome.Revision.Should().Be(2_501);
        restarted.EventsRead.Should().Be(2_500 - snapshotRevision + 1, "the anchor event and the tail, not the 2,501 events of the stream");
        var withoutSnapshots = WalletsWithoutSnapshots(store);
        // 2,501 transfer ids are past the wallet's memory bound: both states keep the balances, and recall the rest per command.
        Canonical(Wallet.Forget((await withoutSnapshots.Load(stream)).State, 0)).Should().Be(Canonical(Wallet.Forget(outcome.State, 0)));
        (await withoutSnapshots.Execute(stream, new Deposit("d7-7", 1, "bank"), Meta())).NewEvents.Should().BeEmpty("a repeat, recalled");
        withoutSnapshots.EventsRead.Should().Be(2_502);
    }

    [Test]
    public void the_snapshot_tag_changes_with_the_snapshot_version_the_state_shape_and_the_event_schema()
    {
        string Tag(int version, Type state, EventTypeRegistry registry) => SnapshotFormat<Wallet>.TagFor("wallet", version, state, typeof(IWalletEvent), registry);
        var tag = Tag(1, typeof(Wallet), Registry);
        Tag(1, typeof(Wallet), EventTypeRegistry.ForDomain()).Should().Be(tag, "the tag is stable from process to process");
        Tag(2, typeof(Wallet), Registry).Should().NotBe(tag);
        Tag(1, typeof(WalletWithOneMoreField), Registry).Should().NotBe(tag);
        Tag(1, typeof(WalletWithAnotherHold), Registry).Should().NotBe(tag, "a nested type's shape counts too");
        Tag(1, typeof(Wallet), EventTypeRegistry.ForDomain().Add(typeof(DepositedV2), "wallet.deposited.v2")).Should().NotBe(tag, "a new event version");
        Tag(1, typeof(Wallet), EventTypeRegistry.ForDomain().AddUpcaster("wallet.old-deposit.v0", "wallet.deposited.v1", j => j)).Should().NotBe(tag);
        Tag(1, typeof(Wallet), EventTypeRegistry.ForDomain().Add(typeof(UnrelatedEvent), "stock.other.v1")).Should().Be(tag, "other aggregates' events do not count");
    }

    /// <summary>
    /// The fold is not visible in the state's shape: this pins the state a reference history (every wallet event) folds
    /// to. When it fails, Wallet.Evolve changed what a state means: bump Wallet.SnapshotVersion and record the new digest
    /// under the new version (never edit an old one), so that snapshots of the old fold are ignored.
    /// </summary>
    [Test]
    public void the_wallet_fold_of_the_reference_history_is_pinned_to_the_snapshot_version()
    {
        var digests = new Dictionary<int, string>
        {
            [1] = "a60fc70b07bc05d16551377db7cdf4d24f15b09048962a452fc3163869c0a471",
            // The same fold; a stored state may now be lean (WalletMemory.cs).
            [2] = "a60fc70b07bc05d16551377db7cdf4d24f15b09048962a452fc3163869c0a471",
            // The same fold; a lean state keeps the records the lookup by transfer id cannot find (2 forgot them too).
            [3] = "a60fc70b07bc05d16551377db7cdf4d24f15b09048962a452fc3163869c0a471",
        };
        IWalletEvent[] history =
        [
            new WalletOpened("ref", "EUR"),
            new Deposited("d1", 10_000, "bank", "platform:funding:EUR"),
            new CreditLimitSet(500),
            new HoldPlaced("h1", 1_000, new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero), "o1"),
            new HoldPlaced("h2", 700, null, null),
            new HoldCaptured("h1", 800, 200, [new CaptureLeg("platform:revenue:EUR", 300), new CaptureLeg("vendor:v1:payable:EUR", 500)]),
            new HoldReleased("h2", 700, "cancelled"),
            new Withdrawn("w1", 100, "payout", "platform:funding:EUR"),
            new Refunded("r1", 50, "o1", "platform:revenue:EUR"),
            new TransferredOut("t1", 200, "child", "platform:transit:EUR"),
            new TransferReturned("t1", 200, "child", "bound", "platform:transit:EUR"),
            new TransferredIn("t2", 300, "parent", "platform:transit:EUR"),
            new WalletFrozen("review"),
            new WalletUnfrozen(),
            new LowBalanceThresholdSet(1_234),
        ];
        var state = history.Aggregate(Wallet.Empty, Wallet.Evolve);
        var digest = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Canonical(state))));
        digests.Should().ContainKey(Wallet.SnapshotVersion, $"record the fold's digest {digest} under the new version");
        digest.Should().Be(digests[Wallet.SnapshotVersion], "Wallet.Evolve changed: bump Wallet.SnapshotVersion and record this digest under it");
    }

    // ---- helpers ----

    private sealed record WalletWithOneMoreField(string? PartnerId, long Posted, long Extra);
    private sealed record WalletWithAnotherHold(string? PartnerId, System.Collections.Immutable.ImmutableDictionary<string, OtherHold> Holds);
    private sealed record OtherHold(string TransferId, long Amount, bool Open);
    private sealed record DepositedV2(string TransferId, long Amount) : IWalletEvent;
    private sealed record UnrelatedEvent(string Id);

    private sealed record Fold(Wallet State, long Revision, Guid LastEventId);

    private static async Task<Fold> FullFold(IEventStore store, string stream)
    {
        var events = (await store.ReadStream(stream)).Events;
        var state = events.Aggregate(Wallet.Empty, (s, e) => Wallet.Evolve(s, (IWalletEvent)Registry.Deserialize(e.Type, e.Data.Span)!));
        return new Fold(state, events[^1].Revision.Value, events[^1].EventId);
    }

    /// <summary>A wallet with <paramref name="events"/> events of deposits, holds and captures, written without snapshots.</summary>
    private static async Task<string> WrittenHistory(TestDatabase db, IEventStore store, string partner, int events)
    {
        var stream = Wallet.StreamName(partner, "EUR");
        var wallets = WalletsWithoutSnapshots(store);
        await wallets.Execute(stream, new OpenWallet(partner, "EUR"), Meta());
        await wallets.Execute(stream, new Deposit("fund", 100_000, "bank"), Meta());
        for (var i = 0; (await wallets.Load(stream)).Revision < events - 1; i++)
        {
            await wallets.Execute(stream, new PlaceHold($"h{i}", 10 + i, null, $"o{i}", Now), Meta());
            await wallets.Execute(stream, i % 2 == 0 ? new CaptureHold($"h{i}", 5 + i, null) : new ReleaseHold($"h{i}", "x"), Meta());
        }
        (await db.Scalar<long>("select count(*) from steller.snapshots")).Should().Be(0);
        return stream;
    }

    /// <summary>The state as text, maps sorted by key: equal text, equal state.</summary>
    private static string Canonical(Wallet w) => JsonSerializer.Serialize(new
    {
        w.PartnerId, w.Currency, w.Posted, w.Pending, w.CreditLimit, w.Frozen, w.LowBalanceThreshold,
        Holds = w.Holds.OrderBy(h => h.Key, StringComparer.Ordinal).ToList(),
        Transfers = w.Transfers.OrderBy(t => t.Key, StringComparer.Ordinal).ToList(),
    });

    private static string Describe(Decision<IWalletEvent> d) => d.Failed ? $"error {d.Error!.Code}"
        : "emit " + string.Join(";", d.Events.Select(e => $"{Registry.NameOf(e.GetType())} {Encoding.UTF8.GetString(Registry.Serialize(e))}"));

    /// <summary>Random wallet commands: new and repeated transfer ids, holds captured, released and captured again, freezes.</summary>
    private sealed class History(Random random, string partner)
    {
        private readonly List<string> transfers = [];
        private readonly List<string> holds = [];
        private Wallet seen = Wallet.Empty;

        public void Saw(Wallet state) => seen = state;

        private string Known(List<string> ids) => ids.Count == 0 ? "none" : ids[random.Next(ids.Count)];
        private long Amount() => random.Next(4) switch { 0 => random.Next(1, 10), 1 => random.Next(10, 5_000), 2 => Math.Max(1, seen.Spendable), _ => seen.Spendable + 1 };

        public IWalletCommand Next()
        {
            string New(List<string> ids) { var id = $"t{random.Next(1_000_000)}"; ids.Add(id); return id; }
            return random.Next(20) switch
            {
                < 4 => new Deposit(random.Next(5) == 0 ? Known(transfers) : New(transfers), random.Next(1, 10_000), "bank"),
                4 => new Withdraw(New(transfers), Amount(), "payout"),
                < 9 => new PlaceHold(random.Next(6) == 0 ? Known(holds) : New(holds), Amount(), random.Next(3) == 0 ? Now.AddMinutes(5) : null,
                    random.Next(2) == 0 ? $"o{random.Next(100)}" : null, Now),
                < 13 => new CaptureHold(Known(holds), random.Next(0, 3_000), null),
                < 15 => new ReleaseHold(Known(holds), "cancel"),
                15 => new SetCreditLimit(random.Next(3) * 1_000),
                16 => random.Next(2) == 0 ? new FreezeWallet("r") : new UnfreezeWallet(),
                17 => new SetLowBalanceThreshold(random.Next(2) == 0 ? null : random.Next(10_000)),
                18 => new TransferOut(New(transfers), Amount(), "child"),
                _ => random.Next(2) == 0 ? new TransferIn(New(transfers), random.Next(1, 1_000), "parent") : new ReturnTransfer(Known(transfers), "refused"),
            };
        }

        /// <summary>Commands whose decisions depend on every part of the state, decided against it without appending.</summary>
        public IEnumerable<IWalletCommand> Probes(Wallet state)
        {
            yield return new OpenWallet(partner, "EUR");
            yield return new Withdraw("probe-w", Math.Max(1, state.Spendable), "payout");
            yield return new Withdraw("probe-w2", state.Spendable + 1, "payout");
            yield return new PlaceHold("probe-h", Math.Max(1, state.Spendable), null, null, Now);
            yield return new PlaceHold("probe-h2", state.Spendable + 1, null, null, Now);
            yield return new SetCreditLimit(state.CreditLimit);
            yield return new FreezeWallet("probe");
            yield return new UnfreezeWallet();
            yield return new SetLowBalanceThreshold(state.LowBalanceThreshold);
            foreach (var hold in holds.Distinct())
            {
                yield return new CaptureHold(hold, 1, null);
                yield return new ReleaseHold(hold, "probe");
                yield return new PlaceHold(hold, 5, null, null, Now);
                if (state.Holds.TryGetValue(hold, out var h))
                {
                    yield return new PlaceHold(hold, h.Amount, h.ExpiresAt, h.OrderId, Now);
                    yield return new CaptureHold(hold, h.Captured, null);
                }
            }
            foreach (var transfer in transfers.Distinct())
            {
                yield return new Deposit(transfer, 1, "bank");
                yield return new ReturnTransfer(transfer, "probe");
                if (state.Transfers.TryGetValue(transfer, out var t))
                {
                    yield return new Deposit(transfer, t.Amount, "bank");
                    yield return new Withdraw(transfer, t.Amount, "payout");
                    yield return new TransferOut(transfer, t.Amount, "child");
                }
            }
        }
    }
}
