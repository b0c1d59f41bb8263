using FluentAssertions;
using NUnit.Framework;
using Steller.Domain.Wallets;

namespace Steller.Domain.Tests.Wallets;

public sealed class WalletTests : WalletSpec
{
    private const string Revenue = "platform:revenue:EUR";

    [Test]
    public void a_deposit_credits_the_wallet_from_platform_funding() =>
        Given().When(new Deposit("t1", 500_00, "bank-ref-1"))
            .Then(new Deposited("t1", 500_00, "bank-ref-1", "platform:funding:EUR"))
            .AndState(w => w.Available.Should().Be(500_00));

    [Test]
    public void the_same_deposit_twice_is_a_no_op_and_different_content_under_its_id_is_a_conflict()
    {
        Given(new Deposited("t1", 100, "ref", "platform:funding:EUR")).When(new Deposit("t1", 100, "ref")).ThenNothingNew();
        Given(new Deposited("t1", 100, "ref", "platform:funding:EUR")).When(new Deposit("t1", 200, "ref")).ThenFails(WalletErrors.IdempotencyConflict);
    }

    [Test]
    public void a_hold_larger_than_the_available_balance_is_refused() =>
        Given(new Deposited("d", 500_00, "r", "platform:funding:EUR"))
            .When(new PlaceHold("h1", 600_00, null, null, Now))
            .ThenFails(WalletErrors.InsufficientFunds);

    [Test]
    public void a_hold_reduces_available_funds_but_posts_nothing() =>
        Given(new Deposited("d", 500_00, "r", "platform:funding:EUR"))
            .When(new PlaceHold("h1", 200_00, Now.AddMinutes(15), "order-1", Now))
            .Then(new HoldPlaced("h1", 200_00, Now.AddMinutes(15), "order-1"))
            .AndState(w => { w.Posted.Should().Be(500_00); w.Pending.Should().Be(200_00); w.Available.Should().Be(300_00); });

    [Test]
    public void the_credit_limit_lets_available_go_negative_down_to_minus_the_limit()
    {
        Given(new CreditLimitSet(100_00)).When(new PlaceHold("h1", 100_00, null, null, Now)).Then(new HoldPlaced("h1", 100_00, null, null))
            .AndState(w => w.Available.Should().Be(-100_00));
        Given(new CreditLimitSet(100_00)).When(new PlaceHold("h1", 100_01, null, null, Now)).ThenFails(WalletErrors.InsufficientFunds);
    }

    [Test]
    public void capturing_less_than_held_posts_the_capture_and_releases_the_remainder() =>
        Given(new Deposited("d", 500_00, "r", "platform:funding:EUR"), new HoldPlaced("h1", 200_00, null, null))
            .When(new CaptureHold("h1", 150_00, [new CaptureLeg("platform:vendor:bamboo:EUR", 140_00), new CaptureLeg(Revenue, 10_00)]))
            .Then(new HoldCaptured("h1", 150_00, 50_00, [new CaptureLeg("platform:vendor:bamboo:EUR", 140_00), new CaptureLeg(Revenue, 10_00)]))
            .AndState(w => { w.Posted.Should().Be(350_00); w.Pending.Should().Be(0); w.Available.Should().Be(350_00); });

    [Test]
    public void capturing_twice_is_a_no_op_and_capturing_after_a_release_is_refused()
    {
        Given(new HoldPlaced("h1", 100, null, null), new HoldCaptured("h1", 100, 0, [new CaptureLeg(Revenue, 100)]))
            .When(new CaptureHold("h1", 100, null)).ThenNothingNew();
        Given(new HoldPlaced("h1", 100, null, null), new HoldCaptured("h1", 100, 0, [new CaptureLeg(Revenue, 100)]))
            .When(new CaptureHold("h1", 60, null)).ThenFails(WalletErrors.IdempotencyConflict);
        Given(new HoldPlaced("h1", 100, null, null), new HoldReleased("h1", 100, "cancelled"))
            .When(new CaptureHold("h1", 100, null)).ThenFails(WalletErrors.HoldReleased);
    }

    [Test]
    public void releasing_twice_is_a_no_op_and_releasing_a_captured_hold_is_refused()
    {
        Given(new HoldPlaced("h1", 100, null, null), new HoldReleased("h1", 100, "expired")).When(new ReleaseHold("h1", "again")).ThenNothingNew();
        Given(new HoldPlaced("h1", 100, null, null), new HoldCaptured("h1", 100, 0, [new CaptureLeg(Revenue, 100)]))
            .When(new ReleaseHold("h1", "late")).ThenFails(WalletErrors.HoldCaptured);
    }

    [Test]
    public void a_capture_cannot_exceed_the_hold_or_credit_a_foreign_account()
    {
        Given(new HoldPlaced("h1", 100, null, null)).When(new CaptureHold("h1", 101, null)).ThenFails(WalletErrors.CaptureExceedsHold);
        Given(new HoldPlaced("h1", 100, null, null)).When(new CaptureHold("h1", 100, [new CaptureLeg("wallet:p-2:EUR", 100)])).ThenFails(WalletErrors.InvalidLegs);
        Given(new HoldPlaced("h1", 100, null, null)).When(new CaptureHold("h1", 100, [new CaptureLeg("platform:revenue:USD", 100)])).ThenFails(WalletErrors.InvalidLegs);
        Given(new HoldPlaced("h1", 100, null, null)).When(new CaptureHold("h1", 100, [new CaptureLeg(Revenue, 60)])).ThenFails(WalletErrors.InvalidLegs);
    }

    [Test]
    public void a_sale_below_cost_captures_with_a_negative_revenue_leg_that_flows_back_through_the_wallet()
    {
        const string vendor = "platform:vendor:giftcard:EUR";
        Given(new HoldPlaced("h1", 100, null, null)).When(new CaptureHold("h1", 100, [new CaptureLeg(vendor, 110), new CaptureLeg(Revenue, -10)]))
            .Then(new HoldCaptured("h1", 100, 0, [new CaptureLeg(vendor, 110), new CaptureLeg(Revenue, -10)]));
        Wallet.Postings("wallet:p:EUR", new HoldCaptured("h1", 100, 0, [new CaptureLeg(vendor, 110), new CaptureLeg(Revenue, -10)]))
            .Should().Equal(new Posting("wallet:p:EUR", vendor, 110), new Posting(Revenue, "wallet:p:EUR", 10));
        Given(new HoldPlaced("h1", 100, null, null)).When(new CaptureHold("h1", 100, [new CaptureLeg(vendor, -10), new CaptureLeg(Revenue, 110)]))
            .ThenFails(WalletErrors.InvalidLegs);
    }

    [Test]
    public void a_frozen_wallet_refuses_debits_but_takes_deposits()
    {
        Given(new Deposited("d", 100, "r", "platform:funding:EUR"), new WalletFrozen("kyc")).When(new PlaceHold("h", 10, null, null, Now)).ThenFails(WalletErrors.Frozen);
        Given(new WalletFrozen("kyc")).When(new Deposit("d", 10, "r")).Then(new Deposited("d", 10, "r", "platform:funding:EUR"));
    }

    [Test]
    public void a_hold_reusing_a_transfer_id_with_other_content_is_a_conflict() =>
        Given(new Deposited("d", 1000, "r", "platform:funding:EUR"), new HoldPlaced("h1", 100, null, null))
            .When(new PlaceHold("h1", 200, null, null, Now)).ThenFails(WalletErrors.IdempotencyConflict);

    [Test]
    public void a_hold_cannot_expire_in_the_past() =>
        Given(new Deposited("d", 1000, "r", "platform:funding:EUR")).When(new PlaceHold("h1", 100, Now.AddSeconds(-1), null, Now)).ThenFails(WalletErrors.HoldExpiryInPast);

    [Test]
    public void commands_to_a_wallet_that_was_never_opened_are_refused() =>
        GivenNoWallet().When(new Deposit("d", 10, "r")).ThenFails(WalletErrors.NotOpen);

    [Test]
    public void every_posting_a_wallet_makes_is_balanced_so_a_currency_sums_to_zero()
    {
        IWalletEvent[] history =
        [
            new Deposited("d", 1000, "r", "platform:funding:EUR"),
            new Withdrawn("w", 100, "r", "platform:funding:EUR"),
            new HoldPlaced("h", 300, null, null),
            new HoldCaptured("h", 250, 50, [new CaptureLeg("platform:vendor:v:EUR", 200), new CaptureLeg(Revenue, 50)]),
            new TransferredOut("t", 100, "p-2", "platform:transit:EUR"),
        ];
        var balances = new Dictionary<string, long>();
        foreach (var p in history.SelectMany(e => Wallet.Postings("wallet:p-1:EUR", e)))
        {
            balances[p.Debit] = balances.GetValueOrDefault(p.Debit) - p.Amount;
            balances[p.Credit] = balances.GetValueOrDefault(p.Credit) + p.Amount;
        }
        balances.Values.Sum().Should().Be(0);
        balances["wallet:p-1:EUR"].Should().Be(history.Aggregate(Wallet.Evolve(Wallet.Empty, new WalletOpened("p-1", "EUR")), Wallet.Evolve).Posted);
    }
}
