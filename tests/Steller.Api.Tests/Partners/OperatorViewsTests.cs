using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using FluentAssertions;
using NUnit.Framework;
using Steller.Api.Tests.Orders;
using Steller.Client;
using Steller.Testing;

namespace Steller.Api.Tests.Partners;

/// <summary>
/// Operators find partners and wallets and see growth without SQL: GET /admin/partners, GET /admin/wallets and
/// GET /admin/reports/growth, over real orders fulfilled by the simulator.
/// </summary>
public sealed class OperatorViewsTests() : OrderFixture("operator_views")
{
    [Test, CancelAfter(180_000)]
    public async Task concurrent_first_orders_activate_a_partner_once_and_the_growth_report_counts_it_once()
    {
        var month = DateTime.UtcNow.ToString("yyyy-MM");
        var before = await GrowthThisMonth();

        using var buyer = await Partner("growth-buyer", 1_000_00);
        await Partner("growth-idle", 0);
        // 12 first orders at once: each completion reaches the aftermath, only one may activate the partner.
        var placed = await Task.WhenAll(Enumerable.Range(0, 12).Select(i =>
            buyer.PlaceOrder($"first-{i}", [new NewOrderLine(Amazon25, 1, 25_00)])));
        foreach (var order in placed) (await Terminal(buyer, order.OrderId)).Status.Should().Be("Completed");

        await Eventually.True(async () =>
                await db.Scalar<bool>("select exists (select from read.partners where partner_id = 'growth-buyer' and activated_at is not null)"),
            TimeSpan.FromSeconds(60), "read.partners shows the activation");
        (await db.Scalar<long>("""
            select count(*) from es.events where stream_id = 'partner-growth-buyer' and event_type = 'partner.activated.v1'
            """)).Should().Be(1, "one activation event however many first orders completed together");
        var firstOrder = await db.Scalar<string>("select first_order_id from read.partners where partner_id = 'growth-buyer'");
        placed.Select(o => o.OrderId).Should().Contain(firstOrder);
        (await db.Scalar<bool>("select activated_at is null from read.partners where partner_id = 'growth-idle'")).Should().BeTrue();

        // Caught up means every completed order is in: read models apply events as they become visible, not all at once.
        await Eventually.True(async () => await db.Scalar<long>(
                "select count(*) from read.orders where partner_id = 'growth-buyer' and status = 'Completed'") == placed.Length,
            TimeSpan.FromSeconds(60), "read.orders shows every completed order");
        var revenue = await db.Scalar<long>("select coalesce(sum(revenue), 0)::bigint from read.orders where partner_id = 'growth-buyer'");
        revenue.Should().BeGreaterThan(0);
        await Eventually.True(async () => (await GrowthThisMonth()).Revenue - before.Revenue == revenue, TimeSpan.FromSeconds(60),
            "the daily stats caught up with every completed order");
        var after = await GrowthThisMonth();
        (after.Onboarded - before.Onboarded).Should().Be(2);
        (after.Activated - before.Activated).Should().Be(1);
        (after.Active - before.Active).Should().Be(1);
        (after.Revenue - before.Revenue).Should().Be(revenue);

        admin.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("text/csv"));
        try
        {
            var csv = await admin.GetStringAsync($"/admin/reports/growth?from={month}-01&to={month}-01&granularity=month");
            var lines = csv.TrimEnd('\n').Split('\n');
            lines[0].Should().Be("period_start,period_end,onboarded,activated,median_hours_to_first_order,active_partners,currency,revenue");
            lines.Should().Contain(l => l.StartsWith($"{month}-01,") && l.Contains($",{after.Onboarded},{after.Activated},")
                                        && l.EndsWith($",EUR,{after.Revenue}"));
        }
        finally { admin.DefaultRequestHeaders.Accept.Clear(); }
    }

    [Test]
    public async Task partners_are_found_by_id_prefix_or_name_and_by_status_in_pages()
    {
        foreach (var id in new[] { "find-alpha", "find-beta", "find-gamma" })
            (await admin.PostAsJsonAsync("/admin/partners", new { partnerId = id, name = $"Shop {id.ToUpperInvariant()} 50%", contactEmail = $"a@{id}.test" }))
                .EnsureSuccessStatusCode();
        (await admin.PostAsJsonAsync("/admin/partners/find-beta/suspend", new { reason = "chargebacks" })).EnsureSuccessStatusCode();
        await Eventually.True(async () => (await Ids("/admin/partners?q=find-&status=Suspended")).SequenceEqual(["find-beta"]),
            TimeSpan.FromSeconds(30), "read.partners caught up");

        (await Ids("/admin/partners?q=find-")).Should().Equal("find-alpha", "find-beta", "find-gamma");
        (await Ids("/admin/partners?q=shop%20find-g")).Should().Equal("find-gamma");
        (await Ids("/admin/partners?q=find-&status=Active")).Should().Equal("find-alpha", "find-gamma");
        (await Ids("/admin/partners?q=0%25")).Should().BeEquivalentTo(["find-alpha", "find-beta", "find-gamma"], "% is matched literally");
        (await Ids("/admin/partners?q=x%25y")).Should().BeEmpty("a % in q is no wildcard");

        var first = await admin.GetFromJsonAsync<JsonElement>("/admin/partners?q=find-&limit=2");
        var second = await admin.GetFromJsonAsync<JsonElement>($"/admin/partners?q=find-&limit=2&after={first.GetProperty("next").GetString()}");
        first.GetProperty("items").EnumerateArray().Concat(second.GetProperty("items").EnumerateArray())
            .Select(p => p.GetProperty("partnerId").GetString()).Should().Equal("find-alpha", "find-beta", "find-gamma");
        second.GetProperty("next").ValueKind.Should().Be(JsonValueKind.Null);
    }

    [Test]
    public async Task wallets_across_partners_are_listed_with_a_below_filter()
    {
        await Partner("wallet-poor", 5_00);
        await Partner("wallet-rich", 500_00);
        // The deposits, not just the wallets' opening: read models apply events as they become visible, one by one.
        await Eventually.True(async () => (await Wallets("/admin/wallets?currency=EUR&limit=1000")).Contains(("wallet-rich", 500_00)),
            TimeSpan.FromSeconds(30), "read.wallet_balances caught up");

        var poor = await Wallets("/admin/wallets?currency=EUR&below=10000&limit=1000");
        poor.Should().Contain(("wallet-poor", 5_00)).And.NotContain(w => w.PartnerId == "wallet-rich");
        (await Wallets("/admin/wallets?currency=USD")).Should().NotContain(w => w.PartnerId.StartsWith("wallet-"));

        var first = await admin.GetFromJsonAsync<JsonElement>("/admin/wallets?limit=1");
        first.GetProperty("items").GetArrayLength().Should().Be(1);
        var next = first.GetProperty("next").GetString();
        var second = await admin.GetFromJsonAsync<JsonElement>($"/admin/wallets?limit=1&after={next}");
        second.GetProperty("items")[0].GetProperty("partnerId").GetString()
            .Should().NotBe(first.GetProperty("items")[0].GetProperty("partnerId").GetString());
    }

    [TestCase("/admin/partners?status=Sleeping")]
    [TestCase("/admin/partners?limit=0")]
    [TestCase("/admin/partners?after=nope")]
    [TestCase("/admin/partners?q=%01")]
    [TestCase("/admin/wallets?currency=EURO")]
    [TestCase("/admin/wallets?below=ten")]
    [TestCase("/admin/wallets?after=nope")]
    [TestCase("/admin/reports/growth?from=2026-01-01&to=2025-01-01")]
    [TestCase("/admin/reports/growth?from=2026-01-01&to=2026-02-01&granularity=year")]
    [TestCase("/admin/reports/growth?from=2026-01-01")]
    public async Task a_bad_query_is_a_400(string path)
    {
        using var response = await admin.GetAsync(path);
        response.StatusCode.Should().Be(HttpStatusCode.BadRequest, await response.Content.ReadAsStringAsync());
    }

    private async Task<(long Onboarded, long Activated, long Active, long Revenue)> GrowthThisMonth()
    {
        var month = DateTime.UtcNow.ToString("yyyy-MM");
        var report = await admin.GetFromJsonAsync<JsonElement>($"/admin/reports/growth?from={month}-01&to={month}-01&granularity=month");
        var period = report.GetProperty("periods").EnumerateArray().Single();
        var revenue = period.GetProperty("revenue").EnumerateArray()
            .Where(r => r.GetProperty("currency").GetString() == "EUR").Sum(r => r.GetProperty("amount").GetInt64());
        return (period.GetProperty("onboarded").GetInt64(), period.GetProperty("activated").GetInt64(),
            period.GetProperty("activePartners").GetInt64(), revenue);
    }

    private async Task<List<string>> Ids(string path) =>
        (await admin.GetFromJsonAsync<JsonElement>(path)).GetProperty("items").EnumerateArray()
        .Select(p => p.GetProperty("partnerId").GetString()!).ToList();

    private async Task<List<(string PartnerId, long Available)>> Wallets(string path) =>
        (await admin.GetFromJsonAsync<JsonElement>(path)).GetProperty("items").EnumerateArray()
        .Select(w => (w.GetProperty("partnerId").GetString()!, w.GetProperty("available").GetInt64())).ToList();
}
