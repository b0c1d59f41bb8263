using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FluentAssertions;
using NUnit.Framework;
using Steller.Client;
using Steller.Infrastructure.Orders;
using Steller.Testing;

namespace Steller.Api.Tests.Orders;

/// <summary>
/// Fail fast: with a budget of 0.1 request/s at the gift-card vendor, one line per checkout, 2 requests a line and a 60 s
/// pending timeout, the vendor serves 3 lines in time. A fourth order for it is refused at once (422 vendor_busy with Retry-After) instead
/// of being accepted and cancelled by the timeout later; orders for other vendors are still taken.
/// </summary>
public sealed class VendorBusyTests() : OrderFixture("vendor_busy")
{
    /// <summary>0.1 request/s, one line per checkout, 2 requests a line, 60 s timeout: the vendor serves 3 lines in time.</summary>
    internal static readonly IReadOnlyDictionary<string, string?> ThreeLinesInTime = new Dictionary<string, string?>
    {
        ["Vendors:GiftCard:RequestsPerSecond"] = "0.1",
        ["Vendors:GiftCard:Burst"] = "1",
        ["Vendors:GiftCard:MaxLinesPerCheckout"] = "1",
        ["Orders:PendingTimeoutSeconds"] = "60",
        ["Orders:VendorRequestsPerLine"] = "2",
    };

    protected override IReadOnlyDictionary<string, string?> ExtraSettings => ThreeLinesInTime;

    [Test, CancelAfter(90_000)]
    public async Task an_order_for_a_vendor_whose_queue_is_full_is_refused_at_once_with_vendor_busy_and_retry_after()
    {
        using var partner = await Partner("busy-buyer", 1_000_00);
        for (var i = 1; i <= 3; i++)
            (await partner.PlaceOrder($"queued-{i}", [new NewOrderLine(Amazon25, 1, 25_00)])).Status.Should().Be("FundsHeld");
        await Eventually.True(async () => await db.Scalar<long>(
                "select count(*) from read.order_lines l join read.orders o using (order_id) where o.status in ('FundsHeld', 'Submitted') and l.delivered is null") == 3,
            TimeSpan.FromSeconds(30), "the three queued lines are in read.order_lines");
        await Task.Delay(1_100); // the queue count is cached for a second

        using var refused = await partner.Http.PostAsJsonAsync("v1/orders",
            new { clientReference = "one-too-many", lines = new[] { new { sku = Amazon25, quantity = 1, faceValue = 25_00 } } });

        refused.StatusCode.Should().Be(HttpStatusCode.UnprocessableEntity);
        (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString().Should().Be("vendor_busy");
        refused.Headers.RetryAfter!.Delta!.Value.TotalSeconds.Should().BeGreaterThanOrEqualTo(1);
        (await Wallet("busy-buyer")).Pending.Should().Be(3 * 25_00, "the refused order held nothing");
        (await db.Scalar<long>("select count(*) from es.events where stream_id like 'order-%' and data::text like '%one-too-many%'"))
            .Should().Be(0, "nothing was written: the same reference can be placed again later");
        var metrics = await (await admin.GetAsync("/metrics")).Content.ReadAsStringAsync();
        metrics.Should().Contain("steller_vendor_queue_depth{vendor=\"giftcard\"} 3");
        var health = await admin.GetFromJsonAsync<JsonElement>("/admin/vendors/health");
        health.EnumerateArray().Single(v => v.GetProperty("vendor").GetString() == "giftcard").GetProperty("queued").GetInt64().Should().Be(3);

        using var topUp = await partner.Http.PostAsJsonAsync("v1/orders", new
        {
            clientReference = "other-vendor", lines = new[] { new { sku = Vodafone15, quantity = 1, faceValue = 15_00 } },
            recipient = new { phone = Phone },
        });
        topUp.StatusCode.Should().Be(HttpStatusCode.Accepted, "another vendor's queue is not full");
    }
}

/// <summary>
/// The queue is read from read.orders, which is seconds behind during a burst: orders placed back to back must count
/// at once, or a burst over-fills the vendor's queue (seen: 250 orders accepted at 50/s against a capacity of 135).
/// </summary>
public sealed class VendorBusyBurstTests() : OrderFixture("vendor_busy_burst")
{
    protected override IReadOnlyDictionary<string, string?> ExtraSettings => VendorBusyTests.ThreeLinesInTime;

    [Test, CancelAfter(90_000)]
    public async Task orders_placed_back_to_back_count_against_the_vendors_queue_before_the_read_model_shows_them()
    {
        using var partner = await Partner("burst-buyer", 1_000_00);

        var statuses = new List<string>();
        for (var i = 1; i <= 8; i++)
        {
            using var response = await partner.Http.PostAsJsonAsync("v1/orders",
                new { clientReference = $"burst-{i}", lines = new[] { new { sku = Amazon25, quantity = 1, faceValue = 25_00 } } });
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            statuses.Add(response.IsSuccessStatusCode ? body.GetProperty("status").GetString()! : body.GetProperty("code").GetString()!);
        }

        statuses.Should().Equal(["FundsHeld", "FundsHeld", "FundsHeld", "vendor_busy", "vendor_busy", "vendor_busy", "vendor_busy", "vendor_busy"],
            "the vendor serves 3 lines within the timeout, and each accepted line counts at once");
        (await Wallet("burst-buyer")).Pending.Should().Be(3 * 25_00);
    }

    [Test]
    public void the_backlog_reads_the_checkpoint_of_the_projection_behind_read_orders() =>
        ReadModelVendorBacklog.OrdersReadModel.Should().Be(Steller.Projections.Orders.OrdersProjection.ProjectionName);
}
