using FluentAssertions;
using NUnit.Framework;
using Steller.Domain.Vendors;
using Steller.Domain.Wallets;
using Steller.Projections.Wallets;
using static Steller.Projections.Tests.Folds.FoldEvents;

namespace Steller.Projections.Tests.Folds;

/// <summary>The ledger's fold without a database: loaded rows and wallet events in, rows to write out.</summary>
public sealed class LedgerFoldTests
{
    private const string Stream = "wallet-p1-EUR";
    private static readonly string Account = Accounts.Wallet("p1", "EUR");

    private static LedgerProjection.WalletEvent E(IWalletEvent e, long revision, int seconds = 0) =>
        new(At(Stream, revision, (ulong)(revision + 1) * 10, seconds), e, "p1", "EUR", Account);

    [Test]
    public void a_deposit_posts_two_entries_and_moves_both_balances()
    {
        var changes = LedgerProjection.Fold(new Dictionary<string, LedgerProjection.Balance>(), new Dictionary<(string, string), LedgerProjection.HoldRow>(),
            [E(new Deposited("d1", 1_000, "ref-1", Accounts.Funding("EUR")), 0)]);

        changes.Balances.Should().HaveCount(2);
        changes.Balances.Single(b => b.Account == Account).Should().Match<LedgerProjection.Balance>(b => b.Posted == 1_000 && b.Entries == 1 && b.PartnerId == "p1" && b.Revision == 0);
        changes.Balances.Single(b => b.Account == Accounts.Funding("EUR")).Should().Match<LedgerProjection.Balance>(b => b.Posted == -1_000 && b.PartnerId == null);
        changes.Entries.Select(e => (e.Account, e.Amount, e.BalanceAfter, e.Kind, e.Reference))
            .Should().BeEquivalentTo(new[] { (Accounts.Funding("EUR"), -1_000L, -1_000L, "deposit", (string?)"ref-1"), (Account, 1_000L, 1_000L, "deposit", "ref-1") });
        changes.Holds.Should().BeEmpty();
    }

    [Test]
    public void a_hold_placed_then_captured_in_one_batch_is_one_captured_hold_whose_entries_carry_its_order()
    {
        var loaded = new Dictionary<string, LedgerProjection.Balance>
        {
            [Account] = new() { Account = Account, PartnerId = "p1", Currency = "EUR", Posted = 500, Entries = 1 },
        };
        var changes = LedgerProjection.Fold(loaded, new Dictionary<(string, string), LedgerProjection.HoldRow>(),
        [
            E(new HoldPlaced("h1", 300, null, "o-1"), 1, 1),
            E(new HoldCaptured("h1", 200, 100, [new CaptureLeg(Accounts.Revenue("EUR"), 200)]), 2, 2),
        ]);

        var wallet = changes.Balances.Single(b => b.Account == Account);
        (wallet.Posted, wallet.Pending, wallet.Entries, wallet.Revision).Should().Be((300L, 0L, 2L, 2L));
        changes.Holds.Should().ContainSingle().Which.Should().Match<LedgerProjection.HoldRow>(h =>
            h.TransferId == "h1" && h.Status == "captured" && h.Captured == 200 && h.OrderId == "o-1" && h.ClosedAt == T0.AddSeconds(2).UtcDateTime);
        changes.Entries.Should().HaveCount(2).And.OnlyContain(e => e.OrderId == "o-1" && e.Kind == "capture");
        loaded[Account].Posted.Should().Be(500, "the fold leaves what was loaded as it was");
    }

    [Test]
    public void a_vendor_top_up_then_a_capture_draw_on_the_vendor_account_in_log_order()
    {
        var vendor = Accounts.VendorPayable("giftcard", "EUR");
        var topUp = new LedgerProjection.VendorEvent(At("vendor-giftcard", 0, 5),
            new VendorToppedUp("bank-1", "EUR", 1_000, vendor, Accounts.Funding("EUR")), "giftcard");
        var loaded = new Dictionary<string, LedgerProjection.Balance>
        {
            [Account] = new() { Account = Account, PartnerId = "p1", Currency = "EUR", Posted = 500, Pending = 300, Entries = 1 },
        };
        var holds = new Dictionary<(string, string), LedgerProjection.HoldRow>
        {
            [(Account, "h1")] = new() { Account = Account, TransferId = "h1", PartnerId = "p1", Currency = "EUR", Amount = 300, OrderId = "o-1" },
        };

        var changes = LedgerProjection.Fold(loaded, holds,
            [topUp, E(new HoldCaptured("h1", 300, 0, [new CaptureLeg(vendor, 240), new CaptureLeg(Accounts.Revenue("EUR"), 60)]), 2, 1)]);

        changes.Balances.Single(b => b.Account == vendor).Posted.Should().Be(-1_000 + 240, "the prepaid balance at the vendor is 760");
        changes.Balances.Single(b => b.Account == Accounts.Funding("EUR")).Posted.Should().Be(1_000);
        changes.Entries.Where(e => e.Account == vendor).Select(e => (e.Kind, e.Amount, e.BalanceAfter))
            .Should().Equal(("vendor-top-up", -1_000L, -1_000L), ("capture", 240L, -760L));
        changes.Entries.Single(e => e.Account == vendor && e.Kind == "vendor-top-up").Should().Match<LedgerProjection.Entry>(e =>
            e.TransferId == "bank-1" && e.Reference == "giftcard" && e.StreamId == "vendor-giftcard" && e.PartnerId == null);
        changes.Balances.Sum(b => b.Posted).Should().Be(500, "only the wallet's opening 500 was loaded: every posting of the batch is balanced");
    }

    [Test]
    public void a_release_closes_a_hold_placed_in_an_earlier_batch()
    {
        var holds = new Dictionary<(string, string), LedgerProjection.HoldRow>
        {
            [(Account, "h1")] = new() { Account = Account, TransferId = "h1", PartnerId = "p1", Currency = "EUR", Amount = 300 },
        };
        var balances = new Dictionary<string, LedgerProjection.Balance>
        {
            [Account] = new() { Account = Account, PartnerId = "p1", Currency = "EUR", Posted = 500, Pending = 300 },
        };
        var changes = LedgerProjection.Fold(balances, holds, [E(new HoldReleased("h1", 300, "expired"), 3)]);

        changes.Holds.Should().ContainSingle().Which.Status.Should().Be("released");
        changes.Balances.Single().Pending.Should().Be(0);
        changes.Entries.Should().BeEmpty();
        holds[(Account, "h1")].Status.Should().Be("open", "the fold leaves what was loaded as it was");
    }
}
