using FluentAssertions;
using Steller.Application.Vendors;
using Steller.Domain;

namespace Steller.Vendors.Tests;

/// <summary>Both vendor protocols' balance call, against the simulator's real prepaid balances, and how Steller checks the answer.</summary>
public sealed class VendorBalanceTests : VendorTest
{
    protected override string[] SimulatorArgs => ["--Simulator:GiftCard:OpeningBalance=0", "--Simulator:TopUp:OpeningBalance=0"];

    [Test, CancelAfter(60_000)]
    public async Task a_gift_card_purchase_draws_the_balance_down_and_a_control_top_up_raises_it_per_currency()
    {
        await Sim.TopUpBalance("giftcard", "EUR", 100.00m);
        (await Steller.GiftCard.Balance("EUR")).Should().Be(new VendorReportedBalance("giftcard", "EUR", 100.00m, 100_00, true));

        var purchase = GiftCard(101);
        await Steller.GiftCard.Submit(purchase);
        (await PollUntilFinal(Steller.GiftCard, purchase)).Status.Should().Be(VendorPurchaseStatus.Succeeded);

        (await Steller.GiftCard.Balance("EUR")).Minor.Should().Be(76_00, "Amazon.de 25 EUR costs 24.00");
        (await Steller.GiftCard.Balance("USD")).Minor.Should().Be(0, "each currency is its own account");
    }

    [Test, CancelAfter(60_000)]
    public async Task a_top_up_is_charged_in_its_send_currency_and_a_failed_transfer_is_given_back()
    {
        await Sim.TopUpBalance("topup", "EUR", 50.00m);
        await Sim.TopUpBalance("topup", "USD", 50.00m);

        var ok = TopUp("VFDE-15EUR", 15_00, phone: "+4915112345678");
        (await Steller.TopUp.Submit(ok)).Status.Should().Be(VendorPurchaseStatus.Succeeded);
        await Sim.Script(new { vendor = "topup", operation = "transfer", action = "fail", times = 1 });
        (await Steller.TopUp.Submit(TopUp("TMUS-OPEN-USD", 20_00, currency: "USD", phone: "+12125551234"))).Status
            .Should().Be(VendorPurchaseStatus.Failed);

        (await Steller.TopUp.Balance("EUR")).Should().Be(new VendorReportedBalance("topup", "EUR", 35.75m, 35_75, true));
        (await Steller.TopUp.Balance("USD")).Minor.Should().Be(50_00, "the failed transfer's charge came back");
    }

    [Test, CancelAfter(60_000)]
    public async Task a_balance_with_digits_below_the_minor_unit_is_rounded_down_and_marked_inexact()
    {
        await Sim.TopUpBalance("giftcard", "EUR", 20.00m);
        var purchase = GiftCard(301, 15_00); // Nintendo eShop 15 EUR costs 14.2501 at the vendor
        await Steller.GiftCard.Submit(purchase);
        await PollUntilFinal(Steller.GiftCard, purchase);

        var balance = await Steller.GiftCard.Balance("EUR");
        (balance.Reported, balance.Minor, balance.Exact).Should().Be((5.7499m, 5_74L, false));
    }

    [Test]
    public void a_balance_answer_outside_the_money_bound_is_not_believed()
    {
        var tooLarge = () => VendorBalances.Check("giftcard", "EUR", Money.MaxMinorUnits / 100m + 1);
        var absurd = () => VendorBalances.Check("giftcard", "EUR", 79_000_000_000_000_000_000_000_000_000m);
        tooLarge.Should().Throw<VendorUnavailableException>().WithMessage("*outside the money bound*");
        absurd.Should().Throw<VendorUnavailableException>();
        VendorBalances.Check("topup", "JPY", 2_910m).Should().Be(new VendorReportedBalance("topup", "JPY", 2_910m, 2_910, true));
        VendorBalances.Check("topup", "EUR", -1.005m).Minor.Should().Be(-1_01, "rounded down, towards the smaller balance");
    }
}
