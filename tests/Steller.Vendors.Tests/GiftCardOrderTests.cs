using System.Diagnostics;
using Steller.Application.Vendors;
using Steller.VendorSimulator;

namespace Steller.Vendors.Tests;

public sealed class GiftCardOrderTests : VendorTest
{
    private const string Vendor = VendorKinds.GiftCard;

    [Test]
    public async Task a_gift_card_purchase_is_processing_after_submit_and_succeeds_with_its_cards_when_polled()
    {
        await Sim.Script(new { vendor = Vendor, operation = "checkout", action = "slow", polls = 2 });
        var purchase = GiftCard(quantity: 3);

        var submitted = await Steller.GiftCard.Submit(purchase);
        var first = await Steller.GiftCard.Poll(purchase);
        var done = await PollUntilFinal(Steller.GiftCard, purchase);

        submitted.Status.Should().Be(VendorPurchaseStatus.Processing);
        first.Status.Should().Be(VendorPurchaseStatus.Processing);
        first.Cards.Should().BeEmpty();
        done.Status.Should().Be(VendorPurchaseStatus.Succeeded);
        done.Delivered.Should().Be(3);
        done.Cards.Should().HaveCount(3).And.OnlyContain(c => c.Code.Length > 0 && c.Pin!.Length >= 4 && c.SerialNumber.Length > 0 && c.ExpirationDate > DateOnly.FromDateTime(DateTime.UtcNow));
        done.Cards.Select(c => c.Code).Should().OnlyHaveUniqueItems();
        done.FailureReason.Should().BeNull();
        (await Sim.Requests(Vendor, "order")).Should().HaveCount(3);
    }

    [Test]
    public async Task submitting_the_same_request_id_twice_creates_exactly_one_vendor_order_and_answers_its_state()
    {
        var purchase = GiftCard(quantity: 2);

        await Steller.GiftCard.Submit(purchase);
        var again = await Steller.GiftCard.Submit(purchase);

        (await Sim.Orders(Vendor)).Where(o => o.RequestId == purchase.RequestId).Should().ContainSingle();
        (await Sim.Requests(Vendor, "checkout")).Select(r => r.Status).Should().Equal(200, 409);
        again.Status.Should().Be(VendorPurchaseStatus.Succeeded);
        again.Cards.Should().HaveCount(2);
    }

    [Test]
    public async Task two_transient_5xx_answers_are_retried_and_the_third_checkout_attempt_places_the_order()
    {
        await Sim.Script(new { vendor = Vendor, operation = "checkout", action = "status", status = 503, times = 2 });
        var purchase = GiftCard();

        var result = await Steller.GiftCard.Submit(purchase);

        result.Status.Should().Be(VendorPurchaseStatus.Processing);
        (await Sim.Requests(Vendor, "checkout")).Select(r => r.Status).Should().Equal(503, 503, 200);
        (await Sim.Orders(Vendor)).Should().ContainSingle(o => o.RequestId == purchase.RequestId);
    }

    [Test]
    public async Task four_transient_5xx_answers_exhaust_the_three_retries_and_surface_as_vendor_unavailable()
    {
        await Sim.Script(new { vendor = Vendor, operation = "checkout", action = "status", status = 502, times = 4 });

        var submit = () => Steller.GiftCard.Submit(GiftCard());

        (await submit.Should().ThrowAsync<VendorUnavailableException>()).Which.Vendor.Should().Be(Vendor);
        (await Sim.Requests(Vendor, "checkout")).Select(r => r.Status).Should().Equal(502, 502, 502, 502);
        (await Sim.Orders(Vendor)).Should().BeEmpty();
    }

    [Test]
    public async Task a_429_storm_is_waited_out_exactly_as_long_as_retry_after_says_before_each_new_attempt()
    {
        await Sim.Script(new { vendor = Vendor, operation = "checkout", action = "status", status = 429, retryAfterSeconds = 1, times = 2 });
        var clock = Stopwatch.StartNew();

        var result = await Steller.GiftCard.Submit(GiftCard());

        clock.Elapsed.Should().BeGreaterThanOrEqualTo(TimeSpan.FromSeconds(2));
        result.Status.Should().Be(VendorPurchaseStatus.Processing);
        var attempts = await Sim.Requests(Vendor, "checkout");
        attempts.Select(r => r.Status).Should().Equal(429, 429, 200);
        for (var i = 1; i < attempts.Count; i++)
            (attempts[i].At - attempts[i - 1].At).Should().BeGreaterThanOrEqualTo(TimeSpan.FromSeconds(1) - TimeSpan.FromMilliseconds(20),
                "attempt {0} came after a 429 with Retry-After: 1", i + 1);
    }

    [Test]
    public async Task a_429_pauses_every_caller_of_that_vendor_not_only_the_refused_one()
    {
        await Sim.Script(new { vendor = Vendor, operation = "checkout", action = "status", status = 429, retryAfterSeconds = 2 });
        var refused = Steller.GiftCard.Submit(GiftCard());
        RecordedRequest? the429 = null;
        for (var i = 0; i < 200 && the429 is null; i++)
        {
            the429 = (await Sim.Requests(Vendor, "checkout")).FirstOrDefault(r => r.Status == 429);
            if (the429 is null) await Task.Delay(10);
        }
        the429.Should().NotBeNull();

        // Another caller, another operation, same vendor: it must wait for the same Retry-After.
        await Steller.GiftCard.ReadCatalog().ToListAsync();
        await refused;

        var catalog = await Sim.Requests(Vendor, "catalog");
        catalog.Should().NotBeEmpty();
        catalog.Min(r => r.At).Should().BeOnOrAfter(the429!.At + TimeSpan.FromSeconds(2) - TimeSpan.FromMilliseconds(20));
    }

    [Test]
    public async Task many_concurrent_calls_never_exceed_the_vendors_rate_limit_as_the_vendor_recorded_it()
    {
        // The vendor allows 5 requests/s with a burst of 2; Steller is configured a little under it (as in production).
        await Sim.RateLimit(Vendor, perSecond: 5, burst: 2);
        await using var steller = new Adapters(Sim, overrides: new Dictionary<string, string?>
        {
            ["Vendors:GiftCard:RequestsPerSecond"] = "4", ["Vendors:GiftCard:Burst"] = "1",
        });
        var purchases = Enumerable.Range(0, 12).Select(_ => GiftCard()).ToList();

        var results = await Task.WhenAll(purchases.Select(p => steller.GiftCard.Submit(p)));

        results.Should().OnlyContain(r => r.Status == VendorPurchaseStatus.Processing);
        var seen = await Sim.Requests(Vendor);
        seen.Should().HaveCount(12).And.OnlyContain(r => r.Status == 200, "not one call was refused with 429");
        // Token bucket (rate r, burst b): any k consecutive arrivals span at least (k - b) / r seconds.
        var at = seen.Select(r => r.At).Order().ToList();
        for (var i = 0; i < at.Count; i++)
            for (var j = i + 2; j < at.Count; j++)
                (at[j] - at[i]).TotalSeconds.Should().BeGreaterThanOrEqualTo((j - i + 1 - 2) / 5.0, "requests {0}..{1} must fit the vendor's bucket", i, j);
    }

    [Test]
    public async Task a_permanent_reject_comes_back_as_failed_with_the_vendors_reason_and_is_not_retried()
    {
        await Sim.Script(new { vendor = Vendor, operation = "checkout", action = "reject", reason = "Brand temporarily out of stock" });

        var result = await Steller.GiftCard.Submit(GiftCard());

        result.Status.Should().Be(VendorPurchaseStatus.Failed);
        result.FailureReason.Should().Contain("Brand temporarily out of stock");
        result.Cards.Should().BeEmpty();
        (await Sim.Requests(Vendor, "checkout")).Should().ContainSingle();
        (await Sim.Orders(Vendor)).Should().BeEmpty();
    }

    [Test]
    public async Task an_order_the_vendor_fails_after_accepting_it_polls_as_failed_with_a_reason()
    {
        await Sim.Script(new { vendor = Vendor, operation = "checkout", action = "fail", reason = "Supplier error" });
        var purchase = GiftCard();

        await Steller.GiftCard.Submit(purchase);
        var result = await PollUntilFinal(Steller.GiftCard, purchase);

        result.Status.Should().Be(VendorPurchaseStatus.Failed);
        result.FailureReason.Should().Contain("Supplier error");
        result.Delivered.Should().Be(0);
    }

    [Test]
    public async Task a_partial_failure_delivers_k_of_n_cards_as_partial_failed()
    {
        await Sim.Script(new { vendor = Vendor, operation = "checkout", action = "partial", delivered = 2 });
        var purchase = GiftCard(quantity: 5);

        await Steller.GiftCard.Submit(purchase);
        var result = await PollUntilFinal(Steller.GiftCard, purchase);

        result.Status.Should().Be(VendorPurchaseStatus.PartialFailed);
        result.Delivered.Should().Be(2);
        result.Cards.Should().HaveCount(2);
        result.FailureReason.Should().NotBeNullOrEmpty();
    }

    [Test]
    public async Task a_checkout_that_hangs_past_the_attempt_timeout_is_abandoned_and_retried()
    {
        await using var steller = new Adapters(Sim, overrides: new Dictionary<string, string?> { ["Vendors:GiftCard:AttemptTimeoutMilliseconds"] = "300" });
        await Sim.Script(new { vendor = Vendor, operation = "checkout", action = "hang", delayMs = 10_000 });
        var purchase = GiftCard();
        var clock = Stopwatch.StartNew();

        var result = await steller.GiftCard.Submit(purchase);

        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(5), "the hung attempt was given up after 300 ms, not after the vendor's 10 s");
        result.Status.Should().Be(VendorPurchaseStatus.Processing);
        var attempts = await Sim.Requests(Vendor, "checkout", atLeast: 2);
        attempts.Should().HaveCount(2);
        attempts[0].Status.Should().Be(499, "the client gave up on the first attempt");
        attempts[1].Status.Should().Be(200);
        (await Sim.Orders(Vendor)).Should().ContainSingle(o => o.RequestId == purchase.RequestId);
    }

    [Test]
    public async Task a_checkout_whose_answer_is_lost_after_the_vendor_placed_the_order_is_asked_about_and_never_submitted_twice()
    {
        await using var steller = new Adapters(Sim, overrides: new Dictionary<string, string?> { ["Vendors:GiftCard:AttemptTimeoutMilliseconds"] = "300" });
        await Sim.Script(new { vendor = Vendor, operation = "checkout", action = "hang-after", delayMs = 10_000 });
        var purchase = GiftCard(quantity: 2);

        var result = await steller.GiftCard.Submit(purchase);

        result.Status.Should().Be(VendorPurchaseStatus.Succeeded, "the client asked for the order under its request id and followed it");
        result.Cards.Should().HaveCount(2);
        (await Sim.Requests(Vendor, "checkout", atLeast: 1)).Select(r => r.Status).Should().Equal([499], "one submission per request id, never a 409");
        (await Sim.Requests(Vendor, "order")).Should().ContainSingle();
        (await Sim.Orders(Vendor)).Should().ContainSingle(o => o.RequestId == purchase.RequestId);
    }

    [Test]
    public async Task a_purchase_that_may_have_been_sent_is_asked_about_first_and_followed_when_the_vendor_has_it()
    {
        var purchase = GiftCard();
        await Steller.GiftCard.Submit(purchase);

        var again = await Steller.GiftCard.Submit(purchase with { MayHaveBeenSent = true });

        again.Status.Should().Be(VendorPurchaseStatus.Succeeded);
        (await Sim.Requests(Vendor, "checkout")).Select(r => r.Status).Should().Equal([200], "no second checkout, so no 409 either");
    }

    [Test]
    public async Task a_purchase_that_may_have_been_sent_but_never_arrived_is_submitted_after_one_status_read()
    {
        var purchase = GiftCard() with { MayHaveBeenSent = true };

        var result = await Steller.GiftCard.Submit(purchase);

        result.Status.Should().Be(VendorPurchaseStatus.Processing);
        (await Sim.Requests(Vendor)).Select(r => (r.Operation, r.Status)).Should().Equal(("order", 404), ("checkout", 200));
    }

    [Test]
    public async Task polling_an_order_the_vendor_never_received_answers_failed()
    {
        var result = await Steller.GiftCard.Poll(GiftCard());

        result.Status.Should().Be(VendorPurchaseStatus.Failed);
        result.FailureReason.Should().Contain("never submitted");
    }

    [Test]
    public async Task wrong_credentials_are_a_permanent_refusal_not_a_retry_storm()
    {
        await using var wrong = new Adapters(Sim, overrides: new Dictionary<string, string?> { ["Vendors:GiftCard:ClientSecret"] = "not-the-secret" });

        var result = await wrong.GiftCard.Submit(GiftCard());

        result.Status.Should().Be(VendorPurchaseStatus.Failed);
        result.FailureReason.Should().Contain("401");
        (await Sim.Requests(Vendor, "checkout")).Should().ContainSingle().Which.Status.Should().Be(401);
    }
}
