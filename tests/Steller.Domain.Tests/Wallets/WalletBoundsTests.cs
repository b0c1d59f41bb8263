using FluentAssertions;
using NUnit.Framework;
using Steller.Domain.Wallets;

namespace Steller.Domain.Tests.Wallets;

/// <summary>Money never wraps: every amount and every balance stays within ±<see cref="Money.MaxMinorUnits"/>.</summary>
public sealed class WalletBoundsTests : WalletSpec
{
    private const long Max = Money.MaxMinorUnits;
    private const string Funding = "platform:funding:EUR", Revenue = "platform:revenue:EUR";

    [Test]
    public void a_deposit_of_the_largest_long_is_refused_as_amount_out_of_range() =>
        Given().When(new Deposit("t1", long.MaxValue, "ref")).ThenFails(Money.AmountOutOfRange);

    [Test]
    public void a_deposit_of_exactly_the_bound_is_accepted() =>
        Given().When(new Deposit("t1", Max, "ref")).Then(new Deposited("t1", Max, "ref", Funding))
            .AndState(w => w.Posted.Should().Be(Max));

    [Test]
    public void a_deposit_that_would_take_the_balance_past_the_bound_is_refused_and_the_balance_stays() =>
        Given(new Deposited("t1", Max, "ref", Funding)).When(new Deposit("t2", 1, "ref")).ThenFails(Money.AmountOutOfRange)
            .AndState(w => w.Posted.Should().Be(Max));

    [Test]
    public void the_reproducer_largest_long_then_one_never_wraps_to_a_negative_balance() =>
        Given().When(new Deposit("t1", long.MaxValue, "ref")).ThenFails(Money.AmountOutOfRange)
            .When(new Deposit("t2", 1, "ref")).Then(new Deposited("t2", 1, "ref", Funding))
            .AndState(w => w.Posted.Should().Be(1));

    [Test]
    public void a_refund_or_an_incoming_transfer_past_the_bound_is_refused()
    {
        Given(new Deposited("t1", Max, "ref", Funding)).When(new CreditRefund("r1", 1, "order-1")).ThenFails(Money.AmountOutOfRange);
        Given(new Deposited("t1", Max, "ref", Funding)).When(new TransferIn("x1", 1, "parent")).ThenFails(Money.AmountOutOfRange);
    }

    [Test]
    public void a_sent_transfer_whose_receiver_refused_it_comes_back_once_and_transit_nets_to_zero() =>
        Given(new Deposited("t1", 100_00, "ref", Funding), new TransferredOut("x1", 30_00, "child", "platform:transit:EUR"))
            .When(new ReturnTransfer("x1", "the receiving wallet refused it: amount_out_of_range"))
            .Then(new TransferReturned("x1", 30_00, "child", "the receiving wallet refused it: amount_out_of_range", "platform:transit:EUR"))
            .AndState(w => w.Posted.Should().Be(100_00))
            .When(new ReturnTransfer("x1", "again")).ThenNothingNew()
            .AndState(w => w.Posted.Should().Be(100_00, "a second return changes nothing"));

    [Test]
    public void only_a_transfer_this_wallet_sent_can_come_back()
    {
        Given(new Deposited("t1", 100_00, "ref", Funding)).When(new ReturnTransfer("t1", "not a transfer")).ThenFails(WalletErrors.TransferNotFound);
        Given(new Deposited("t1", 100_00, "ref", Funding), new TransferredIn("x1", 10_00, "parent", "platform:transit:EUR"))
            .When(new ReturnTransfer("x1", "incoming")).ThenFails(WalletErrors.TransferNotFound);
    }

    [Test]
    public void withdrawals_holds_outgoing_transfers_and_credit_limits_past_the_bound_are_refused()
    {
        Given().When(new Withdraw("w1", Max + 1, "ref")).ThenFails(Money.AmountOutOfRange);
        Given().When(new PlaceHold("h1", long.MaxValue, null, null, Now)).ThenFails(Money.AmountOutOfRange);
        Given().When(new TransferOut("x1", Max + 1, "child")).ThenFails(Money.AmountOutOfRange);
        Given().When(new SetCreditLimit(Max + 1)).ThenFails(Money.AmountOutOfRange);
        Given().When(new SetCreditLimit(Max)).Then(new CreditLimitSet(Max));
    }

    [Test]
    public void capture_legs_that_sum_past_a_long_are_refused_not_thrown()
    {
        var held = new[] { new Deposited("d", 100_00, "r", Funding), (IWalletEvent)new HoldPlaced("h1", 100_00, null, null) };
        Given(held)
            .When(new CaptureHold("h1", 100_00, [new CaptureLeg(Revenue, long.MaxValue), new CaptureLeg(Revenue, long.MaxValue)]))
            .ThenFails(Money.AmountOutOfRange);
        Given(held)
            .When(new CaptureHold("h1", 100_00, [new CaptureLeg(Revenue, long.MinValue), new CaptureLeg(Revenue, 100_00)]))
            .ThenFails(Money.AmountOutOfRange);
    }

    [Test]
    public void folding_an_event_whose_amount_would_wrap_the_balance_throws_instead_of_wrapping()
    {
        var nearTheTop = Wallet.Evolve(Wallet.Evolve(Wallet.Empty, new WalletOpened("p-1", "EUR")),
            new Deposited("t1", long.MaxValue, "ref", Funding));
        var wrap = () => Wallet.Evolve(nearTheTop, new Deposited("t2", 1, "ref", Funding));
        wrap.Should().Throw<OverflowException>("Evolve adds with overflow checks: a stored wrapped event is a fault, not a balance");
    }
}

/// <summary>Capture legs credit only accounts that exist by rule: revenue, and the payable of one of the order's vendors.</summary>
public sealed class CaptureLegRuleTests : WalletSpec
{
    private const string Funding = "platform:funding:EUR", Revenue = "platform:revenue:EUR";
    private static readonly IWalletEvent[] Held = [new Deposited("d", 100_00, "r", Funding), new HoldPlaced("h1", 100_00, null, "order-1")];

    [Test]
    public void a_leg_to_the_orders_vendor_is_accepted() =>
        Given(Held).When(new CaptureHold("h1", 100_00, [new CaptureLeg("platform:vendor:giftcard:EUR", 90_00), new CaptureLeg(Revenue, 10_00)],
                ["giftcard"]))
            .ThenEvents(e => e.Should().ContainSingle().Which.Should().BeOfType<HoldCaptured>());

    [Test]
    public void a_leg_to_a_vendor_the_order_does_not_use_is_refused() =>
        Given(Held).When(new CaptureHold("h1", 100_00, [new CaptureLeg("platform:vendor:topup:EUR", 100_00)], ["giftcard"]))
            .ThenFails(WalletErrors.InvalidLegs);

    [Test]
    public void a_hold_without_an_order_may_credit_only_revenue() =>
        Given(Held).When(new CaptureHold("h1", 100_00, [new CaptureLeg("platform:vendor:giftcard:EUR", 100_00)], []))
            .ThenFails(WalletErrors.InvalidLegs);

    [TestCase("platform:vendor:\u202eevil\n:EUR")]
    [TestCase("platform:vendor:Giftcard:EUR")]
    [TestCase("platform:vendor::EUR")]
    [TestCase("platform:vendor:a:b:EUR")]
    [TestCase("platform:funding:EUR")]
    [TestCase("wallet:p-2:EUR")]
    public void a_leg_to_an_account_no_rule_creates_is_refused(string account) =>
        Given(Held).When(new CaptureHold("h1", 100_00, [new CaptureLeg(account, 100_00)])).ThenFails(WalletErrors.InvalidLegs);
}
