using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FluentAssertions;
using NUnit.Framework;
using Steller.Api.Tests.Orders;
using Steller.Client;
using Steller.Testing;

namespace Steller.Api.Tests.Vendors;

/// <summary>
/// A vendor reverses a purchase on its side (the simulator's control call gives the cost back to its prepaid balance) and
/// finance records the same reversal in Steller: the reconciliation is exact on both sides, before and after.
/// </summary>
public sealed class VendorReversalTests() : OrderFixture("vendor_reversal")
{
    protected override string[] SimulatorArgs => ["--Simulator:GiftCard:OpeningBalance=0", "--Simulator:TopUp:OpeningBalance=0"];

    [Test, CancelAfter(300_000)]
    public async Task a_reversal_at_the_vendor_recorded_as_a_vendor_refund_in_steller_reconciles_exactly_on_both_sides()
    {
        using var finance = await factory.AdminClient("finance");
        using var partner = await Partner("reversal-buyer", 500_00);
        (await finance.PostAsJsonAsync("/admin/vendors/giftcard/top-ups", new { currency = "EUR", amount = 100_00, reference = "bank-gc-1" }))
            .StatusCode.Should().Be(HttpStatusCode.Created);
        await sim.TopUpBalance("giftcard", "EUR", 100.00m);

        var orderId = (await partner.PlaceOrder("gc-reversed", [new NewOrderLine(Amazon25, 1, 25_00)])).OrderId;
        (await Terminal(partner, orderId)).Status.Should().Be("Completed");
        var before = await Reconcile(finance, "exact");
        (before.GetProperty("ledgerBalance").GetInt64(), before.GetProperty("vendorBalance").GetInt64()).Should().Be((76_00L, 76_00L));

        // The vendor reverses the purchase: its balance is 24.00 higher, which Steller's ledger does not know yet.
        var vendorOrder = (await sim.Orders("giftcard")).Should().ContainSingle().Subject;
        var reversal = await sim.Reverse("giftcard", vendorOrder.RequestId);
        (reversal.GetProperty("amount").GetDecimal(), reversal.GetProperty("balance").GetDecimal(), reversal.GetProperty("alreadyReversed").GetBoolean())
            .Should().Be((24.00m, 100.00m, false));
        var unrecorded = await Reconcile(finance, "drift");
        (unrecorded.GetProperty("ledgerBalance").GetInt64(), unrecorded.GetProperty("vendorBalance").GetInt64(),
            unrecorded.GetProperty("unexplained").GetInt64()).Should().Be((76_00L, 100_00L, -24_00L));

        // Reversing again gives nothing more back.
        var again = await sim.Reverse("giftcard", vendorOrder.RequestId);
        (again.GetProperty("amount").GetDecimal(), again.GetProperty("balance").GetDecimal(), again.GetProperty("alreadyReversed").GetBoolean())
            .Should().Be((24.00m, 100.00m, true));
        (await sim.Orders("giftcard")).Single().Reversed.Should().Be(24.00m);

        // Finance records the reversal for the same order: both sides hold 100.00 again.
        (await finance.PostAsJsonAsync("/admin/vendors/giftcard/refunds",
                new { currency = "EUR", amount = 24_00, reference = "gc-reversal-1", orderId, reason = "card never activated" }))
            .StatusCode.Should().Be(HttpStatusCode.Created);
        var after = await Reconcile(finance, "exact");
        (after.GetProperty("ledgerBalance").GetInt64(), after.GetProperty("vendorBalance").GetInt64(), after.GetProperty("difference").GetInt64(),
            after.GetProperty("inFlight").GetInt64(), after.GetProperty("unexplained").GetInt64()).Should().Be((100_00L, 100_00L, 0L, 0L, 0L));
        after.GetProperty("flagged").GetBoolean().Should().BeFalse();
    }

    [Test, CancelAfter(120_000)]
    public async Task the_simulator_reverses_only_a_delivered_order_it_knows()
    {
        using var unknown = await sim.Control.PostAsync("/control/orders/giftcard/no-such-order/reversal", null);
        unknown.StatusCode.Should().Be(HttpStatusCode.NotFound);
        using var badVendor = await sim.Control.PostAsync("/control/orders/acme/x/reversal", null);
        badVendor.StatusCode.Should().Be(HttpStatusCode.BadRequest);

        using var partner = await Partner("reversal-failed", 100_00);
        await sim.TopUpBalance("topup", "EUR", 100.00m);
        await sim.Script(new { vendor = "topup", operation = "transfer", action = "fail", reason = "Number not eligible", times = 1 });
        var failed = (await partner.PlaceOrder("tu-failed", [new NewOrderLine(Vodafone15, 1, 15_00)], recipientPhone: Phone)).OrderId;
        (await Terminal(partner, failed)).Status.Should().Be("Failed");
        var transfer = (await sim.Orders("topup")).Should().ContainSingle().Subject;
        using var notDelivered = await sim.Control.PostAsync($"/control/orders/topup/{transfer.RequestId}/reversal", null);
        notDelivered.StatusCode.Should().Be(HttpStatusCode.Conflict, "a failed transfer was never charged");
    }

    private static async Task<JsonElement> Reconcile(HttpClient finance, string result)
    {
        JsonElement report = default;
        await Eventually.True(async () =>
        {
            report = await finance.GetFromJsonAsync<JsonElement>("/admin/vendors/giftcard/reconciliation?currency=EUR");
            return report.GetProperty("result").GetString() == result;
        }, TimeSpan.FromSeconds(30), $"the gift-card reconciliation is {result}");
        return report;
    }
}
