using System.Text.Json;
using FluentAssertions;
using NUnit.Framework;
using Steller.Domain.Wallets;

namespace Steller.Domain.Tests.Wallets;

/// <summary>
/// A lean wallet (closed holds and posted transfers forgotten) with the records a command names recalled from the events
/// that carry their transfer ids decides every command exactly as the full fold does (see WalletMemory.cs).
/// </summary>
public sealed class WalletMemoryTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);

    [Test]
    public void random_histories_decide_every_command_identically_on_the_full_fold_and_on_the_lean_state_with_recall()
    {
        var compared = 0;
        var recalled = 0;
        for (var seed = 0; seed < 300; seed++)
        {
            var random = new Random(seed);
            var events = new List<IWalletEvent>();
            var full = Wallet.Empty;
            var lean = Wallet.Empty;
            var rememberAtMost = random.Next(0, 6);
            var commands = new Commands(random);
            Apply(new OpenWallet("p", "EUR"));
            for (var step = 0; step < 120; step++)
            {
                // A batch, as the command service decides it: the records every command names recalled once, before the first.
                var batch = Enumerable.Range(0, random.Next(1, 5)).Select(_ => commands.Next(full)).ToList();
                var keys = batch.SelectMany(c => Wallet.Unknown(c, lean)).ToHashSet(StringComparer.Ordinal);
                var ids = Wallet.TransferIdsFor(keys);
                var current = Wallet.Recall(lean, keys, Lookup(events, ids));
                if (keys.Count > 0) recalled++;
                foreach (var command in batch)
                {
                    var expected = Wallet.Decide(command, full);
                    var actual = Wallet.Decide(command, current);
                    Describe(actual).Should().Be(Describe(expected), $"seed {seed}, step {step}: {command}");
                    compared++;
                    foreach (var e in expected.Events)
                    {
                        events.Add(e);
                        full = Wallet.Evolve(full, e);
                        current = Wallet.Evolve(current, e);
                    }
                }
                lean = random.Next(3) == 0 ? current : Wallet.Forget(current, rememberAtMost);
                Invariants(lean, full);
            }
            continue;

            void Apply(IWalletCommand command)
            {
                foreach (var e in Wallet.Decide(command, full).Events)
                {
                    events.Add(e);
                    full = Wallet.Evolve(full, e);
                    lean = Wallet.Evolve(lean, e);
                }
            }
        }
        compared.Should().BeGreaterThan(50_000);
        recalled.Should().BeGreaterThan(10_000, "most batches on a lean state name a record it does not hold");
    }

    [Test]
    public void forgetting_keeps_the_balances_and_the_open_holds_and_only_past_the_bound()
    {
        IWalletEvent[] history =
        [
            new WalletOpened("p", "EUR"),
            new Deposited("d1", 10_000, "bank", "platform:funding:EUR"),
            new HoldPlaced("h1", 1_000, null, "o1"),
            new HoldPlaced("h2", 700, null, null),
            new HoldCaptured("h1", 800, 200, [new CaptureLeg("platform:revenue:EUR", 800)]),
            new CreditLimitSet(500),
            new WalletFrozen("review"),
        ];
        var full = history.Aggregate(Wallet.Empty, Wallet.Evolve);

        Wallet.Forget(full, rememberAtMost: 3).Should().BeSameAs(full, "three entries are within the bound");
        var lean = Wallet.Forget(full, rememberAtMost: 2);

        lean.Lean.Should().BeTrue();
        lean.Holds.Keys.Should().Equal("h2");
        lean.Transfers.Should().BeEmpty();
        (lean.Posted, lean.Pending, lean.CreditLimit, lean.Frozen).Should().Be((full.Posted, full.Pending, full.CreditLimit, full.Frozen));
        Wallet.Unknown(new Deposit("d1", 10_000, "bank"), full).Should().BeEmpty("a state that forgot nothing knows every transfer id");
        Wallet.Unknown(new Deposit("d1", 10_000, "bank"), lean).Should().Equal("d1");
        Wallet.Unknown(new CaptureHold("h2", 1, null), lean).Should().BeEmpty("an open hold is never forgotten");
        Wallet.Unknown(new TransferIn("x", 1, "parent"), lean).Should().Equal("in:x");
        Wallet.TransferIdsFor(["in:x", "return:y", "z"]).Should().BeEquivalentTo(["in:x", "x", "return:y", "y", "z"]);
    }

    [Test]
    public void a_hold_named_like_a_returned_transfer_key_does_not_hide_the_forgotten_return()
    {
        // One key in both maps: the hold "return:t" is open (kept), the return of transfer t is a transfer record (forgotten).
        IWalletEvent[] history =
        [
            new WalletOpened("p", "EUR"),
            new Deposited("d", 10_000, "bank", "platform:funding:EUR"),
            new TransferredOut("t", 100, "child", "platform:transit:EUR"),
            new HoldPlaced("return:t", 50, null, null),
            new TransferReturned("t", 100, "child", "refused", "platform:transit:EUR"),
        ];
        var full = history.Aggregate(Wallet.Empty, Wallet.Evolve);
        var lean = Wallet.Forget(full, 0);
        lean.Holds.Should().ContainKey("return:t");
        var command = new ReturnTransfer("t", "again");

        var keys = Wallet.Unknown(command, lean);
        var ids = Wallet.TransferIdsFor(keys);
        var recalled = Wallet.Recall(lean, keys, Lookup(history, ids));

        Wallet.Decide(command, full).Events.Should().BeEmpty("returned once already");
        Describe(Wallet.Decide(command, recalled)).Should().Be(Describe(Wallet.Decide(command, full)));
    }

    [TestCase("a", true)]
    [TestCase("Az09:._-", true)]
    [TestCase("", false)]
    [TestCase("a b", false)]
    [TestCase("a\"b", false)]
    [TestCase("a\\b", false)]
    [TestCase("a/b", false)]
    [TestCase("a+b", false)]
    [TestCase("a\u0000b", false)]
    [TestCase("caf\u00e9", false)]
    [TestCase("\uff21", false)]
    public void the_index_covers_exactly_the_ids_of_1_to_128_ascii_letters_digits_and_colon_dot_underscore_dash(string id, bool covered)
    {
        TransferIdIndex.Covers(id).Should().Be(covered);
        TransferIdIndex.Covers(new string('a', 128)).Should().BeTrue();
        TransferIdIndex.Covers(new string('a', 129)).Should().BeFalse();
        TransferIdIndex.Covers("x\ud800y").Should().BeFalse("a lone surrogate");
    }

    [Test]
    public void a_lean_state_never_forgets_a_record_whose_transfer_ids_the_index_does_not_cover()
    {
        var longId = new string('l', 129);
        IWalletEvent[] history =
        [
            new WalletOpened("p", "EUR"),
            new Deposited("d1", 10_000, "bank", "platform:funding:EUR"),
            new Deposited("a b", 10, "bank", "platform:funding:EUR"),
            new HoldPlaced(longId, 5, null, null),
            new HoldReleased(longId, 5, "cancel"),
            new HoldPlaced("h1", 5, null, null),
            new HoldReleased("h1", 5, "cancel"),
            new TransferredIn("x\u0000", 3, "parent", "platform:transit:EUR"),
            new TransferredIn("t", 3, "parent", "platform:transit:EUR"),
            // "in:" is covered, but the transfer id "" it may have come from is not.
            new Deposited("in:", 1, "bank", "platform:funding:EUR"),
        ];
        var full = history.Aggregate(Wallet.Empty, Wallet.Evolve);

        var lean = Wallet.Forget(full, rememberAtMost: 0);

        lean.Lean.Should().BeTrue();
        lean.Holds.Keys.Should().BeEquivalentTo([longId]);
        lean.Transfers.Keys.Should().BeEquivalentTo(["a b", "in:x\u0000", "in:"]);
        foreach (var (key, transfer) in lean.Transfers) full.Transfers[key].Should().Be(transfer);
        Wallet.Unknown(new Deposit("a b", 10, "bank"), lean).Should().BeEmpty("kept, so known");
        Wallet.Unknown(new Deposit("q r", 10, "bank"), lean).Should().BeEmpty("never forgotten, so a lean state lacking it knows it is new");
        Wallet.Unknown(new Deposit("d1", 10, "bank"), lean).Should().Equal("d1");
        Wallet.Forget(lean, rememberAtMost: 0).Should().BeSameAs(lean, "nothing left that may be forgotten");
    }

    [Test]
    public void recall_folds_only_the_events_that_really_carry_the_requested_transfer_ids()
    {
        IWalletEvent[] history =
        [
            new WalletOpened("p", "EUR"),
            new Deposited("d1", 10_000, "bank", "platform:funding:EUR"),
            new Deposited("d2", 7, "bank", "platform:funding:EUR"),
        ];
        var lean = Wallet.Forget(history.Aggregate(Wallet.Empty, Wallet.Evolve), rememberAtMost: 0);

        // A store matching stored text could return an event whose nested text looks like the id: it must not be folded.
        var recalled = Wallet.Recall(lean, ["d1"], [history[1], history[2]]);

        recalled.Transfers.Keys.Should().Equal("d1");
        Wallet.Decide(new Deposit("d2", 7, "bank"), Wallet.Recall(lean, ["d2"], [history[1]])).Events.Should().ContainSingle(
            "d2 was not among what the store returned, so it is not invented either");
    }

    /// <summary>What the store's lookup returns: the events carrying one of <paramref name="ids"/> that the index covers.</summary>
    private static List<IWalletEvent> Lookup(IEnumerable<IWalletEvent> events, IReadOnlySet<string> ids) =>
        events.Where(e => Wallet.TransferIdOf(e) is { } id && ids.Contains(id) && TransferIdIndex.Covers(id)).ToList();

    private static void Invariants(Wallet lean, Wallet full)
    {
        foreach (var (key, hold) in full.Holds.Where(h => !Wallet.Forgettable(h.Key)))
            lean.Holds.Should().Contain(key, hold, "a record the index cannot find again is never forgotten");
        foreach (var (key, transfer) in full.Transfers.Where(t => !Wallet.Forgettable(t.Key)))
            lean.Transfers.Should().Contain(key, transfer, "a record the index cannot find again is never forgotten");
        (lean.Posted, lean.Pending, lean.CreditLimit, lean.Frozen, lean.LowBalanceThreshold, lean.PartnerId)
            .Should().Be((full.Posted, full.Pending, full.CreditLimit, full.Frozen, full.LowBalanceThreshold, full.PartnerId));
        foreach (var (key, hold) in full.Holds.Where(h => h.Value.Status == HoldStatus.Open))
            lean.Holds.Should().Contain(key, hold, "open holds are never forgotten");
        foreach (var (key, hold) in lean.Holds) full.Holds[key].Should().Be(hold, "a record the lean state holds is the full fold's");
        foreach (var (key, transfer) in lean.Transfers) full.Transfers[key].Should().Be(transfer);
    }

    private static string Describe(Decision<IWalletEvent> d) => d.Failed ? $"error {d.Error!.Code}"
        : d.Events.Count == 0 ? "already done"
        : "emit " + string.Join(";", d.Events.Select(e => $"{e.GetType().Name} {JsonSerializer.Serialize(e, e.GetType())}"));

    /// <summary>
    /// Random wallet commands over a small pool of transfer ids, so ids repeat with the same and with different content, and
    /// ids shaped like the keys of incoming and returned transfers ("in:a", "return:a") collide with them.
    /// </summary>
    private sealed class Commands(Random random)
    {
        private static readonly string[] Bases = ["a", "b", "c", "d", "e", "f", "g", "h"];

        /// <summary>Ids the lookup by transfer id does not cover (TransferIdIndex): their records must never be forgotten.</summary>
        private static readonly string[] Uncovered = ["", "a b", "q\"", "q\\", "q\u0000", "caf\u00e9", "x\ud800", new string('u', 129), new string('v', 125)];

        private string Id()
        {
            var id = random.Next(12) < 9 ? Bases[random.Next(Bases.Length)] + random.Next(6)
                : random.Next(2) == 0 ? Uncovered[random.Next(Uncovered.Length)] : $"n{random.Next(1_000_000)}";
            return random.Next(14) switch { 0 => $"in:{id}", 1 => $"return:{id}", _ => id };
        }

        private long Amount(Wallet w) => random.Next(5) switch
        {
            0 => random.Next(1, 10),
            1 => random.Next(10, 3_000),
            2 => Math.Max(1, w.Spendable),
            3 => w.Spendable + 1,
            _ => 100, // a common amount: repeats with the same content
        };

        public IWalletCommand Next(Wallet w)
        {
            var held = w.Holds.Keys.ToList();
            string AHold() => held.Count > 0 && random.Next(3) > 0 ? held[random.Next(held.Count)] : Id();
            return random.Next(24) switch
            {
                < 4 => new Deposit(Id(), random.Next(3) == 0 ? 100 : random.Next(1, 10_000), random.Next(3) == 0 ? "other" : "bank"),
                < 6 => new Withdraw(Id(), Amount(w), random.Next(3) == 0 ? "other" : "payout"),
                < 10 => new PlaceHold(Id(), Amount(w), random.Next(4) == 0 ? Now.AddMinutes(5) : null, random.Next(3) == 0 ? "o1" : null, Now),
                < 13 => new CaptureHold(AHold(), random.Next(3) == 0 ? 100 : random.Next(0, 2_000),
                    random.Next(4) == 0 ? [new CaptureLeg("platform:revenue:EUR", 60), new CaptureLeg("platform:vendor:v1:EUR", 40)] : null,
                    random.Next(4) == 0 ? ["v1"] : null),
                < 15 => new ReleaseHold(AHold(), "cancel"),
                15 => new CreditRefund(Id(), random.Next(1, 500), "o1"),
                16 => new SetCreditLimit(random.Next(3) * 1_000),
                17 => random.Next(2) == 0 ? new FreezeWallet("r") : new UnfreezeWallet(),
                18 => new SetLowBalanceThreshold(random.Next(2) == 0 ? null : random.Next(10_000)),
                < 21 => new TransferOut(Id(), Amount(w), random.Next(3) == 0 ? "other-child" : "child"),
                21 => new TransferIn(Id(), random.Next(3) == 0 ? 100 : random.Next(1, 1_000), random.Next(3) == 0 ? "other" : "parent"),
                22 => new ReturnTransfer(Id(), "refused"),
                _ => new OpenWallet("p", random.Next(5) == 0 ? "USD" : "EUR"),
            };
        }
    }
}
