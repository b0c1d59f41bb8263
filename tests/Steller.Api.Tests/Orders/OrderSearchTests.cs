using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FluentAssertions;
using NUnit.Framework;
using Steller.Client;
using Steller.Testing;

namespace Steller.Api.Tests.Orders;

/// <summary>Operators find any order across partners (GET /admin/orders), including the stuck ones, with the controllable clock.</summary>
public sealed class OrderSearchTests() : OrderFixture("order_search")
{
    [Test, CancelAfter(120_000)]
    public async Task the_search_finds_a_stuck_order_once_the_clock_has_moved_and_never_a_completed_one()
    {
        // The vendor keeps this one processing for good: it stays Submitted.
        await sim.Script(new { vendor = "giftcard", operation = "checkout", action = "slow", polls = 1_000_000, times = 1 });
        using var slowBuyer = await Partner("search-slow", 100_00);
        var stuck = await slowBuyer.PlaceOrder("stuck-1", [new NewOrderLine(Amazon25, 1, 25_00)]);
        await Eventually.True(async () => await Status(stuck.OrderId) == "Submitted", TimeSpan.FromSeconds(30), "the order reached the vendor");
        using var quickBuyer = await Partner("search-quick", 100_00);
        var done = await quickBuyer.PlaceOrder("done-1", [new NewOrderLine(Amazon25, 1, 25_00)]);
        (await Terminal(quickBuyer, done.OrderId)).Status.Should().Be("Completed");
        await Eventually.True(async () => await Status(done.OrderId) == "Completed", TimeSpan.FromSeconds(30), "read.orders caught up");

        (await Ids("/admin/orders?stuck=true")).Should().NotContain(stuck.OrderId, "30 minutes have not passed yet");
        factory.Clock.Advance(TimeSpan.FromMinutes(31));

        var stuckNow = await Ids("/admin/orders?stuck=true");
        stuckNow.Should().Contain(stuck.OrderId).And.NotContain(done.OrderId);
        (await Ids("/admin/orders?partner=search-quick")).Should().Equal([done.OrderId]);
        (await Ids("/admin/orders?status=Completed&partner=search-quick")).Should().Equal([done.OrderId]);
        (await Ids($"/admin/orders?sku={Amazon25}&partner=search-slow")).Should().Equal([stuck.OrderId]);
        (await Ids($"/admin/orders?sku={Vodafone15}&partner=search-slow")).Should().BeEmpty();
    }

    [Test]
    public async Task pages_of_the_search_follow_the_one_pagination_shape()
    {
        using var buyer = await Partner("search-pages", 1_000_00);
        var placed = new List<string>();
        for (var i = 0; i < 3; i++) placed.Add((await buyer.PlaceOrder($"page-{i}", [new NewOrderLine(Amazon25, 1, 25_00)])).OrderId);
        await Eventually.True(async () => (await Ids("/admin/orders?partner=search-pages")).Count == 3, TimeSpan.FromSeconds(30), "listed");

        var first = await admin.GetFromJsonAsync<JsonElement>("/admin/orders?partner=search-pages&limit=2");
        var next = first.GetProperty("next").GetString();
        var second = await admin.GetFromJsonAsync<JsonElement>($"/admin/orders?partner=search-pages&limit=2&after={next}");

        first.GetProperty("items").EnumerateArray().Concat(second.GetProperty("items").EnumerateArray())
            .Select(o => o.GetProperty("orderId").GetString()).Should().BeEquivalentTo(placed);
        second.GetProperty("next").ValueKind.Should().Be(JsonValueKind.Null);
    }

    [TestCase("stuck=yes")]
    [TestCase("status=Sleeping")]
    [TestCase("limit=0")]
    [TestCase("after=not-a-cursor")]
    public async Task a_bad_query_is_a_400_naming_it(string query)
    {
        using var response = await admin.GetAsync($"/admin/orders?{query}");
        response.StatusCode.Should().Be(HttpStatusCode.BadRequest, await response.Content.ReadAsStringAsync());
    }

    private async Task<string?> Status(string orderId) =>
        await db.Scalar<string>($"select status from read.orders where order_id = '{orderId}'");

    private async Task<List<string>> Ids(string path) =>
        (await admin.GetFromJsonAsync<JsonElement>(path)).GetProperty("items").EnumerateArray()
        .Select(o => o.GetProperty("orderId").GetString()!).ToList();
}
