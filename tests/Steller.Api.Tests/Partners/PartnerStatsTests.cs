using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FluentAssertions;
using NUnit.Framework;
using Steller.Api.Tests.Orders;
using Steller.Client;
using Steller.Testing;

namespace Steller.Api.Tests.Partners;

/// <summary>A partner reads its own numbers (GET /v1/stats), signed, as JSON or CSV; never another partner's; the overview sums the day.</summary>
public sealed class PartnerStatsTests() : OrderFixture("partner_stats")
{
    [Test, CancelAfter(180_000)]
    public async Task a_partner_sees_its_own_orders_by_status_and_product_type_and_never_another_partners()
    {
        using var buyer = await Partner("stats-buyer", 1_000_00);
        using var other = await Partner("stats-other", 1_000_00);
        var gift = await buyer.PlaceOrder("g-1", [new NewOrderLine(Amazon25, 1, 25_00)]);
        var topUp = await buyer.PlaceOrder("t-1", [new NewOrderLine(Vodafone15, 1, 15_00)], recipientPhone: Phone);
        var refusal = async () => await buyer.PlaceOrder("r-1", [new NewOrderLine(Amazon25, 39, 25_00)]);
        (await refusal.Should().ThrowAsync<StellerApiException>()).Which.Code.Should().Be("insufficient_funds");
        var others = await other.PlaceOrder("o-1", [new NewOrderLine(Amazon25, 1, 25_00)]);
        foreach (var (client, id) in new[] { (buyer, gift.OrderId), (buyer, topUp.OrderId), (other, others.OrderId) })
            await Terminal(client, id);
        await Eventually.True(async () => await db.Scalar<long>(
                "select count(*) from read.partner_daily_stats where partner_id = 'stats-buyer' and orders_completed > 0") == 2,
            TimeSpan.FromSeconds(60), "the daily stats caught up");
        // read.orders is another projection: it may apply the captures a moment after the stats do. The overview below
        // counts the other partner's order from it too, so wait for all three.
        await Eventually.True(async () => await db.Scalar<long>(
                "select count(*) from read.orders where partner_id = 'stats-buyer' and status = 'Completed'") == 2
                && await db.Scalar<long>(
                "select count(*) from read.orders where partner_id = 'stats-other' and status = 'Completed'") == 1,
            TimeSpan.FromSeconds(60), "read.orders caught up");
        var captured = await db.Scalar<long>("select sum(captured)::bigint from read.orders where partner_id = 'stats-buyer'");

        var today = factory.Clock.UtcNow.ToString("yyyy-MM-dd");
        var stats = await Signed(buyer, $"/v1/stats?from={today}&to={today}");
        var rows = stats.GetProperty("rows").EnumerateArray().ToList();
        var all = rows.Single(r => r.GetProperty("productType").GetString() == "all" && r.GetProperty("currency").GetString() == "EUR");
        all.GetProperty("ordersPlaced").GetInt64().Should().Be(3);
        all.GetProperty("ordersRejected").GetInt64().Should().Be(1, "39 cards are more than the wallet holds");
        all.GetProperty("ordersCompleted").GetInt64().Should().Be(2);
        all.GetProperty("spent").GetInt64().Should().Be(captured);
        all.GetProperty("successRate").GetDecimal().Should().Be(1m);
        rows.Where(r => r.GetProperty("productType").GetString() != "all").Select(r => r.GetProperty("productType").GetString())
            .Should().HaveCount(2, "one row per product type");
        stats.ToString().Should().NotContain("revenue").And.NotContain("vendorCost");

        var csv = await buyer.Http.SendAsync(new HttpRequestMessage(HttpMethod.Get, $"/v1/stats?from={today}&to={today}")
            { Headers = { Accept = { new("text/csv") } } });
        var text = await csv.Content.ReadAsStringAsync();
        csv.Content.Headers.ContentType!.MediaType.Should().Be("text/csv");
        text.Split('\n')[0].Should().StartWith("period_start,period_end,currency,product_type,orders_placed");
        text.Should().Contain($"{today},").And.Contain(",EUR,all,3,2,0,1,0,");

        var theirs = await Signed(other, $"/v1/stats?from={today}&to={today}");
        theirs.GetProperty("rows").EnumerateArray().Single(r => r.GetProperty("productType").GetString() == "all")
            .GetProperty("ordersPlaced").GetInt64().Should().Be(1, "a partner counts only its own orders");

        var overview = await admin.GetFromJsonAsync<JsonElement>("/admin/overview");
        overview.GetProperty("ordersByStatus").GetProperty("Completed").GetInt64().Should().BeGreaterThanOrEqualTo(3);
        overview.GetProperty("money").EnumerateArray().Single(m => m.GetProperty("currency").GetString() == "EUR")
            .GetProperty("captured").GetInt64().Should().BeGreaterThanOrEqualTo(captured);
        overview.GetProperty("openAlertsByKind").ValueKind.Should().Be(JsonValueKind.Object);
        overview.GetProperty("vendors").EnumerateArray().Select(v => v.GetProperty("vendor").GetString()).Should().Contain("giftcard");
    }

    [TestCase("/v1/stats")]
    [TestCase("/v1/stats?from=2026-01-01&to=2025-01-01")]
    [TestCase("/v1/stats?from=2020-01-01&to=2026-01-01")]
    [TestCase("/v1/stats?from=2026-01-01&to=2026-02-01&granularity=week")]
    [TestCase("/v1/stats?from=01/01/2026&to=2026-02-01")]
    public async Task a_bad_range_is_a_400(string path)
    {
        using var buyer = await Partner($"stats-bad-{Guid.NewGuid():N}"[..20], 0);
        using var response = await buyer.Http.GetAsync(path);
        response.StatusCode.Should().Be(HttpStatusCode.BadRequest, await response.Content.ReadAsStringAsync());
    }

    private static async Task<JsonElement> Signed(StellerClient partner, string path)
    {
        using var response = await partner.Http.GetAsync(path);
        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }
}
