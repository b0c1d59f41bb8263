using Steller.Application.Vendors;
using Steller.Infrastructure.Vendors;

namespace Steller.Vendors.Tests;

public sealed class TopUpOrderTests : VendorTest
{
    private const string Vendor = VendorKinds.TopUp;

    [Test]
    public async Task a_top_up_of_three_units_sends_one_transfer_per_unit_and_succeeds_at_once()
    {
        var purchase = TopUp(quantity: 3);

        var result = await Steller.TopUp.Submit(purchase);

        result.Should().BeEquivalentTo(new VendorPurchaseResult(VendorPurchaseStatus.Succeeded, 3, [], null));
        (await Sim.Orders(Vendor)).Select(o => o.RequestId).Should().Equal(
            $"{purchase.RequestId}-1", $"{purchase.RequestId}-2", $"{purchase.RequestId}-3");
    }

    [Test]
    public async Task a_deferred_top_up_is_processing_until_the_vendor_completes_it()
    {
        await Sim.Script(new { vendor = Vendor, operation = "transfer", action = "slow", polls = 2 });
        var purchase = TopUp();

        var submitted = await Steller.TopUp.Submit(purchase);
        var first = await Steller.TopUp.Poll(purchase);
        var second = await Steller.TopUp.Poll(purchase);
        var third = await Steller.TopUp.Poll(purchase);

        submitted.Status.Should().Be(VendorPurchaseStatus.Processing);
        first.Status.Should().Be(VendorPurchaseStatus.Processing);
        second.Status.Should().Be(VendorPurchaseStatus.Processing);
        third.Should().BeEquivalentTo(new VendorPurchaseResult(VendorPurchaseStatus.Succeeded, 1, [], null));
    }

    [Test]
    public async Task a_unit_still_processing_keeps_the_whole_purchase_processing()
    {
        var purchase = TopUp(quantity: 2);
        await Sim.Script(new { vendor = Vendor, operation = "transfer", action = "slow", polls = 5, requestId = TopUpVendorClient.DistributorRef(purchase.RequestId, 2) });

        var result = await Steller.TopUp.Submit(purchase);

        result.Status.Should().Be(VendorPurchaseStatus.Processing);
        result.Delivered.Should().Be(1);
    }

    [Test]
    public async Task resubmitting_a_top_up_sends_the_same_distributor_refs_and_creates_no_second_transfer()
    {
        var purchase = TopUp(quantity: 2);

        await Steller.TopUp.Submit(purchase);
        var again = await Steller.TopUp.Submit(purchase);

        again.Status.Should().Be(VendorPurchaseStatus.Succeeded);
        (await Sim.Orders(Vendor)).Should().HaveCount(2);
        (await Sim.Requests(Vendor, "transfer")).Should().HaveCount(4).And.OnlyContain(r => r.Status == 200);
    }

    [Test]
    public async Task a_top_up_where_one_of_three_transfers_fails_is_partially_failed()
    {
        var purchase = TopUp(quantity: 3);
        await Sim.Script(new { vendor = Vendor, operation = "transfer", action = "fail", reason = "OperatorUnavailable", requestId = TopUpVendorClient.DistributorRef(purchase.RequestId, 2) });

        var result = await Steller.TopUp.Submit(purchase);
        var polled = await Steller.TopUp.Poll(purchase);

        result.Status.Should().Be(VendorPurchaseStatus.PartialFailed);
        result.Delivered.Should().Be(2);
        result.FailureReason.Should().Contain("OperatorUnavailable");
        polled.Should().BeEquivalentTo(result);
    }

    [Test]
    public async Task a_top_up_the_operator_refuses_fails_with_the_reason_and_is_not_retried()
    {
        await Sim.Script(new { vendor = Vendor, operation = "transfer", action = "reject", reason = "Number barred" });

        var result = await Steller.TopUp.Submit(TopUp());

        result.Status.Should().Be(VendorPurchaseStatus.Failed);
        result.FailureReason.Should().Contain("Number barred");
        (await Sim.Requests(Vendor, "transfer")).Should().ContainSingle().Which.Status.Should().Be(400);
        (await Sim.Orders(Vendor)).Should().BeEmpty();
    }

    [Test]
    public async Task a_phone_number_of_another_operator_is_refused_by_the_vendor()
    {
        var result = await Steller.TopUp.Submit(TopUp(phone: "+4915112345678"));

        result.Status.Should().Be(VendorPurchaseStatus.Failed);
        result.FailureReason.Should().Contain("InvalidAccountNumber");
    }

    [Test]
    public async Task a_transfer_that_times_out_and_then_meets_5xx_is_retried_until_it_goes_through_once()
    {
        await using var steller = new Adapters(Sim, overrides: new Dictionary<string, string?> { ["Vendors:TopUp:AttemptTimeoutMilliseconds"] = "300" });
        await Sim.Script(new[]
        {
            new { vendor = Vendor, operation = "transfer", action = "hang", delayMs = 10_000, status = 0 },
            new { vendor = Vendor, operation = "transfer", action = "status", delayMs = 0, status = 500 },
        });
        var purchase = TopUp();

        var result = await steller.TopUp.Submit(purchase);

        result.Status.Should().Be(VendorPurchaseStatus.Succeeded);
        (await Sim.Requests(Vendor, "transfer", atLeast: 3)).Select(r => r.Status).Should().Equal(499, 500, 200);
        (await Sim.Orders(Vendor)).Should().ContainSingle();
    }

    [Test]
    public async Task a_transfer_whose_answer_is_lost_after_the_vendor_made_it_is_resent_with_the_same_ref_and_not_made_twice()
    {
        await using var steller = new Adapters(Sim, overrides: new Dictionary<string, string?> { ["Vendors:TopUp:AttemptTimeoutMilliseconds"] = "300" });
        await Sim.Script(new { vendor = Vendor, operation = "transfer", action = "hang-after", delayMs = 10_000 });
        var purchase = TopUp(quantity: 2);

        var result = await steller.TopUp.Submit(purchase);

        result.Should().BeEquivalentTo(new VendorPurchaseResult(VendorPurchaseStatus.Succeeded, 2, [], null));
        (await Sim.Requests(Vendor, "transfer", atLeast: 3)).Select(r => (r.RequestId, r.Status)).Should().Equal(
            (TopUpVendorClient.DistributorRef(purchase.RequestId, 1), 499),
            (TopUpVendorClient.DistributorRef(purchase.RequestId, 1), 200),
            (TopUpVendorClient.DistributorRef(purchase.RequestId, 2), 200));
        (await Sim.Orders(Vendor)).Should().HaveCount(2);
    }

    [Test]
    public async Task five_hundreds_on_every_attempt_surface_as_vendor_unavailable()
    {
        await Sim.Script(new { vendor = Vendor, operation = "transfer", action = "status", status = 503, times = 4 });

        var submit = () => Steller.TopUp.Submit(TopUp());

        await submit.Should().ThrowAsync<VendorUnavailableException>();
        (await Sim.Requests(Vendor, "transfer")).Should().HaveCount(4);
    }
}
