using Steller.Application.Vendors;
using Steller.Infrastructure.Vendors;
using Steller.Testing;

namespace Steller.Vendors.Tests;

/// <summary>
/// Gift-card lines that wait for the vendor's budget share one checkout (issue 12 §5), against the simulator over HTTP
/// with the batch book in a real PostgreSQL database.
/// </summary>
public sealed class GiftCardBatchingTests : VendorTest
{
    private const string Vendor = VendorKinds.GiftCard;
    private TestDatabase db = null!;
    private Adapters batching = null!;

    [OneTimeSetUp]
    public async Task CreateDatabase() => db = await TestDatabase.Create("giftcard_batching");

    [OneTimeTearDown]
    public async Task DropDatabase() => await db.DisposeAsync();

    /// <summary>Steller at 2 requests/s, burst 1: the vendor's budget is what lines wait for.</summary>
    private Adapters Batching(IDictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Vendors:GiftCard:RequestsPerSecond"] = "2", ["Vendors:GiftCard:Burst"] = "1", ["Vendors:GiftCard:MaxLinesPerCheckout"] = "20",
        };
        foreach (var (k, v) in extra ?? new Dictionary<string, string?>()) settings[k] = v;
        return new Adapters(Sim, overrides: settings, database: db.DataSource);
    }

    [SetUp]
    public void StartBatching() => batching = Batching();

    [TearDown]
    public async Task StopBatching() => await batching.DisposeAsync();

    /// <summary>One line spends the only token; the lines submitted behind it queue while it waits.</summary>
    private async Task<(VendorPurchase[] Lines, VendorPurchaseResult[] Submitted)> SubmitBehindOne(Adapters steller,
        params VendorPurchase[] lines)
    {
        await steller.GiftCard.Submit(GiftCard());
        var submitted = await Task.WhenAll(lines.Select(l => steller.GiftCard.Submit(l)));
        return (lines, submitted);
    }

    [Test]
    public async Task lines_waiting_for_the_vendors_budget_leave_together_and_each_gets_its_own_cards()
    {
        var lines = Enumerable.Range(1, 12).Select(i => GiftCard(productId: i % 2 == 0 ? 101 : 102, faceValue: i % 2 == 0 ? 25_00 : 50_00,
            quantity: i % 3 + 1)).ToArray();

        var (_, submitted) = await SubmitBehindOne(batching, lines);
        var results = await Task.WhenAll(lines.Select(l => PollUntilFinal(batching.GiftCard, l)));

        submitted.Should().OnlyContain(r => r.Status == VendorPurchaseStatus.Processing);
        var checkouts = await Sim.Requests(Vendor, "checkout");
        checkouts.Should().HaveCountLessThanOrEqualTo(4, "13 lines in at most 4 checkouts: the first alone, the rest as they queued");
        (await Sim.Orders(Vendor)).Should().Contain(o => o.Products >= 5, "one checkout carried many lines");
        (await Sim.Orders(Vendor)).Sum(o => o.Quantity).Should().Be(1 + lines.Sum(l => l.Quantity), "every unit bought exactly once");
        for (var i = 0; i < lines.Length; i++)
        {
            results[i].Status.Should().Be(VendorPurchaseStatus.Succeeded);
            results[i].Cards.Should().HaveCount(lines[i].Quantity, $"line {i} gets the cards of its own item");
        }
        results.SelectMany(r => r.Cards).Select(c => c.Code).Should().OnlyHaveUniqueItems("no card handed to two lines");
    }

    [Test]
    public async Task the_lines_of_one_checkout_share_one_status_read()
    {
        var lines = Enumerable.Range(1, 8).Select(_ => GiftCard()).ToArray();
        await SubmitBehindOne(batching, lines);
        var batches = (await Sim.Orders(Vendor)).Where(o => o.Products > 1).ToList();
        batches.Should().NotBeEmpty();
        var before = (await Sim.Requests(Vendor, "order")).Count;

        await Task.WhenAll(lines.Select(l => batching.GiftCard.Poll(l)));

        var reads = (await Sim.Requests(Vendor, "order")).Count - before;
        reads.Should().BeLessThanOrEqualTo(lines.Length - batches.Sum(b => b.Products) + batches.Count,
            "one status read per checkout, not one per line");
    }

    [Test]
    public async Task a_product_that_fails_in_a_shared_checkout_fails_its_own_line_only()
    {
        await Sim.Script(new { vendor = Vendor, operation = "checkout", action = "fail", productId = "201", reason = "Zalando out of stock" });
        var good = Enumerable.Range(1, 3).Select(_ => GiftCard(productId: 101)).ToArray();
        var bad = GiftCard(productId: 201, faceValue: 20_00, quantity: 2);

        await SubmitBehindOne(batching, [.. good, bad]);
        var badResult = await PollUntilFinal(batching.GiftCard, bad);
        var goodResults = await Task.WhenAll(good.Select(l => PollUntilFinal(batching.GiftCard, l)));

        (await Sim.Orders(Vendor)).Should().Contain(o => o.Products > 1, "the failing line shared a checkout");
        badResult.Status.Should().Be(VendorPurchaseStatus.Failed);
        badResult.Cards.Should().BeEmpty();
        goodResults.Should().OnlyContain(r => r.Status == VendorPurchaseStatus.Succeeded && r.Cards.Count == 1);
    }

    [Test]
    public async Task a_checkout_refused_for_one_line_is_sent_again_line_by_line_so_the_others_are_bought()
    {
        await Sim.Script(new { vendor = Vendor, operation = "checkout", action = "reject", productId = "202", reason = "Brand paused", times = 2 });
        var good = Enumerable.Range(1, 3).Select(_ => GiftCard(productId: 101)).ToArray();
        var bad = GiftCard(productId: 202, faceValue: 100_00);

        var (_, submitted) = await SubmitBehindOne(batching, [.. good, bad]);

        submitted[^1].Status.Should().Be(VendorPurchaseStatus.Failed);
        submitted[^1].FailureReason.Should().Contain("Brand paused");
        (await Task.WhenAll(good.Select(l => PollUntilFinal(batching.GiftCard, l))))
            .Should().OnlyContain(r => r.Status == VendorPurchaseStatus.Succeeded);
        (await Sim.Orders(Vendor)).Where(o => o.ProductId == "101").Sum(o => o.Quantity).Should().Be(4, "each good line bought once");
    }

    [Test]
    public async Task lines_of_a_checkout_that_never_reached_the_vendor_send_the_same_checkout_once_and_are_never_bought_twice()
    {
        // A crash after the batch was recorded and before it was sent: the book knows it, the vendor does not.
        var lines = Enumerable.Range(1, 4).Select(_ => GiftCard(quantity: 2)).ToArray();
        var batch = new CheckoutBatch(Guid.NewGuid().ToString(),
            lines.Select(l => new CheckoutItem(l.RequestId, l.VendorProductId, l.Quantity, l.FaceValue, l.Currency)).ToList());
        await new CheckoutBatchBook(db.DataSource).Record(Vendor, batch, CancellationToken.None);
        await using var restarted = Batching();

        var again = await Task.WhenAll(lines.Select(l => restarted.GiftCard.Submit(l with { MayHaveBeenSent = true })));
        var results = await Task.WhenAll(lines.Select(l => PollUntilFinal(restarted.GiftCard, l)));

        again.Should().OnlyContain(r => r.Status != VendorPurchaseStatus.Failed);
        (await Sim.Orders(Vendor)).Should().ContainSingle().Which.Should().Match<Steller.VendorSimulator.ControlEndpoints.ControlOrder>(
            o => o.RequestId == batch.RequestId && o.Products == 4 && o.Quantity == 8);
        (await Sim.Requests(Vendor, "checkout")).Select(r => r.Status).Should().Equal([200], "one checkout for the four lines, no 409");
        results.Should().OnlyContain(r => r.Status == VendorPurchaseStatus.Succeeded && r.Cards.Count == 2);
    }

    [Test]
    public async Task after_a_restart_a_line_is_followed_in_the_checkout_it_went_out_in()
    {
        var lines = Enumerable.Range(1, 5).Select(_ => GiftCard()).ToArray();
        await SubmitBehindOne(batching, lines);
        var orders = (await Sim.Orders(Vendor)).Count;
        await using var restarted = Batching();

        var results = await Task.WhenAll(lines.Select(l => PollUntilFinal(restarted.GiftCard, l)));
        var resubmitted = await Task.WhenAll(lines.Select(l => restarted.GiftCard.Submit(l with { MayHaveBeenSent = true })));

        results.Should().OnlyContain(r => r.Status == VendorPurchaseStatus.Succeeded && r.Cards.Count == 1);
        resubmitted.Should().OnlyContain(r => r.Status == VendorPurchaseStatus.Succeeded);
        (await Sim.Orders(Vendor)).Should().HaveCount(orders, "following a line never places another order");
    }

    [Test]
    public async Task a_shared_checkout_whose_answer_is_lost_is_asked_about_and_never_sent_twice()
    {
        await using var steller = Batching(new Dictionary<string, string?> { ["Vendors:GiftCard:AttemptTimeoutMilliseconds"] = "300" });
        await steller.GiftCard.Submit(GiftCard());
        await Sim.Script(new { vendor = Vendor, operation = "checkout", action = "hang-after", delayMs = 10_000 });
        var lines = Enumerable.Range(1, 4).Select(_ => GiftCard()).ToArray();

        var submitted = await Task.WhenAll(lines.Select(l => steller.GiftCard.Submit(l)));

        submitted.Should().OnlyContain(r => r.Status != VendorPurchaseStatus.Failed);
        (await Sim.Orders(Vendor)).Sum(o => o.Quantity).Should().Be(5, "each line bought once although an answer was lost");
        (await Sim.Requests(Vendor, "checkout", atLeast: 2)).Should().NotContain(r => r.Status == 409);
    }

    [Test]
    public async Task lines_in_different_currencies_never_share_a_checkout()
    {
        var lines = new[] { GiftCard(), GiftCard(productId: 401, faceValue: 20_00, currency: "USD"), GiftCard(), GiftCard(productId: 401,
            faceValue: 20_00, currency: "USD") };

        await SubmitBehindOne(batching, lines);

        (await Sim.Orders(Vendor)).Should().OnlyContain(o => o.Currency == "EUR" || o.Currency == "USD")
            .And.HaveCountGreaterThanOrEqualTo(3, "the first line, then at least one checkout per currency");
        (await Task.WhenAll(lines.Select(l => PollUntilFinal(batching.GiftCard, l))))
            .Should().OnlyContain(r => r.Status == VendorPurchaseStatus.Succeeded);
    }
}
