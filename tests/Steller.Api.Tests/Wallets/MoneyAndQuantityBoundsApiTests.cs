using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FluentAssertions;
using Microsoft.Extensions.DependencyInjection;
using NUnit.Framework;
using Steller.Application.EventStore;
using Steller.Application.Serialization;
using Steller.Domain;
using Steller.Domain.Inventory;
using Steller.Domain.Wallets;
using Steller.Testing;

namespace Steller.Api.Tests.Wallets;

/// <summary>
/// The reproducers of issue 12 (money never wraps, strict money input) over HTTP against a real PostgreSQL: every amount and
/// quantity is bounded, refusals are 422 with their own code, and nothing reaches the event store that a fold could not add up.
/// </summary>
public sealed class MoneyAndQuantityBoundsApiTests() : AdminApiFixture("bounds")
{
    private const long Max = Money.MaxMinorUnits;

    // ---- money ----

    [Test, CancelAfter(60_000)]
    public async Task depositing_the_largest_long_then_one_is_refused_never_wrapped_and_the_ledger_audit_still_answers()
    {
        var partner = await Wallet();
        var huge = await Deposit(partner, "dep-huge", long.MaxValue);
        await ShouldRefuse(huge, HttpStatusCode.UnprocessableEntity, "amount_out_of_range");
        var one = await Deposit(partner, "dep-one", 1);
        one.StatusCode.Should().Be(HttpStatusCode.Created);
        (await one.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("wallet").GetProperty("posted").GetInt64().Should().Be(1);

        var audit = await client.PostAsync("/admin/ledger/audit", null);
        audit.StatusCode.Should().Be(HttpStatusCode.OK, "no stored amount can make the audit's fold overflow");
    }

    [Test, CancelAfter(60_000)]
    public async Task a_deposit_that_would_take_the_balance_past_the_bound_is_refused_and_the_balance_stays_at_the_bound()
    {
        var partner = await Wallet();
        (await Deposit(partner, "dep-max", Max)).StatusCode.Should().Be(HttpStatusCode.Created);
        await ShouldRefuse(await Deposit(partner, "dep-one", 1), HttpStatusCode.UnprocessableEntity, "amount_out_of_range");
        (await client.GetFromJsonAsync<JsonElement>($"/admin/partners/{partner}/wallets/EUR")).GetProperty("posted").GetInt64().Should().Be(Max);
    }

    [Test, CancelAfter(120_000)]
    public async Task three_hundred_parallel_deposits_near_the_bound_never_take_the_balance_past_it()
    {
        var partner = await Wallet();
        (await Deposit(partner, "seed", Max - 50_00)).StatusCode.Should().Be(HttpStatusCode.Created);

        var outcomes = new ConcurrentBag<(HttpStatusCode Status, string? Code)>();
        await Task.WhenAll(Enumerable.Range(0, 300).Select(async i =>
        {
            var response = await Deposit(partner, $"near-{i}", 1_00);
            outcomes.Add((response.StatusCode, response.IsSuccessStatusCode ? null
                : (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString()));
        }));

        outcomes.Count(o => o.Status == HttpStatusCode.Created).Should().Be(50, "exactly the room left under the bound");
        outcomes.Where(o => o.Status != HttpStatusCode.Created).Should().HaveCount(250)
            .And.OnlyContain(o => o.Status == HttpStatusCode.UnprocessableEntity && o.Code == "amount_out_of_range");
        (await client.GetFromJsonAsync<JsonElement>($"/admin/partners/{partner}/wallets/EUR")).GetProperty("posted").GetInt64().Should().Be(Max);
        var highest = long.MinValue;
        var state = Steller.Domain.Wallets.Wallet.Empty;
        foreach (var e in await Events<IWalletEvent>($"wallet-{partner}-EUR"))
        {
            state = Steller.Domain.Wallets.Wallet.Evolve(state, e);
            highest = Math.Max(highest, state.Posted);
        }
        highest.Should().Be(Max, "no interleaving may take the balance past the bound, at any revision");
    }

    [Test, CancelAfter(120_000)]
    public async Task two_hundred_parallel_transfers_into_a_wallet_near_the_bound_return_what_cannot_land_and_nothing_stops()
    {
        var agency = await Wallet(funded: 1_000_00);
        var child = await Partner(parent: agency);
        (await client.PostAsJsonAsync($"/admin/partners/{child}/wallets", new { currency = "EUR" })).StatusCode.Should().Be(HttpStatusCode.Created);
        (await Deposit(child, "seed", Max - 50_00)).StatusCode.Should().Be(HttpStatusCode.Created);

        // Each transfer checks the receiver's room before it sends; racing transfers all see room, so some receiving halves
        // are refused after their sending half is written. Those must come back to the agency.
        var outcomes = new ConcurrentBag<(HttpStatusCode Status, string? Code)>();
        await Task.WhenAll(Enumerable.Range(0, 200).Select(async i =>
        {
            var response = await client.PostAsJsonAsync($"/admin/partners/{agency}/wallets/EUR/transfers",
                new { transferId = $"race-{i}", toPartnerId = child, amount = 1_00 });
            outcomes.Add((response.StatusCode, response.IsSuccessStatusCode ? null
                : (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString()));
        }));

        outcomes.Count(o => o.Status == HttpStatusCode.Created).Should().Be(50, "exactly the room left under the bound");
        outcomes.Where(o => o.Status != HttpStatusCode.Created)
            .Should().OnlyContain(o => o.Status == HttpStatusCode.UnprocessableEntity && o.Code == "amount_out_of_range");
        var received = (await client.GetFromJsonAsync<JsonElement>($"/admin/partners/{child}/wallets/EUR")).GetProperty("posted").GetInt64();
        var kept = (await client.GetFromJsonAsync<JsonElement>($"/admin/partners/{agency}/wallets/EUR")).GetProperty("posted").GetInt64();
        received.Should().Be(Max);
        kept.Should().Be(1_000_00 - 50_00, "every transfer that did not land came back");
        var returned = (await Events<IWalletEvent>($"wallet-{agency}-EUR")).OfType<TransferReturned>().ToList();
        returned.Should().NotBeEmpty("racing transfers all saw room, so some receiving halves were refused after the sending half");
        returned.Select(r => r.TransferId).Should().OnlyHaveUniqueItems();
        TestContext.Out.WriteLine($"{returned.Count} transfers came back after their receiving half was refused");
        // Nothing stays in transit, the ledger agrees, and the transfer-completion process is still running.
        await Eventually.True(async () => (await client.PostAsync("/admin/ledger/audit", null)) is { IsSuccessStatusCode: true } r
                && (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("result").GetString() == "clean",
            TimeSpan.FromSeconds(60), "the ledger audit is clean once the read model caught up");
        (await db.Scalar<long>("select count(*) from steller.projection_faults where name = 'wallet_transfer_completion'"))
            .Should().Be(0, "the transfer-completion process never faulted on a refused receiving half");
    }

    [Test, CancelAfter(60_000)]
    public async Task capture_legs_summing_past_a_long_answer_422_not_500()
    {
        var partner = await Wallet(100_00);
        await Hold(partner, "h-1", 100_00);
        var response = await client.PostAsJsonAsync($"/admin/partners/{partner}/wallets/EUR/holds/h-1/capture", new
        {
            amount = 100_00,
            legs = new[] { new { account = "platform:revenue:EUR", amount = long.MaxValue }, new { account = "platform:revenue:EUR", amount = long.MaxValue } },
        });
        await ShouldRefuse(response, HttpStatusCode.UnprocessableEntity, "amount_out_of_range");
    }

    [Test, CancelAfter(60_000)]
    public async Task a_capture_leg_may_credit_only_revenue_or_the_orders_vendor_never_an_account_the_request_makes_up()
    {
        var partner = await Wallet(100_00);
        await Hold(partner, "h-1", 100_00);
        var madeUp = await client.PostAsJsonAsync($"/admin/partners/{partner}/wallets/EUR/holds/h-1/capture",
            new { amount = 100_00, legs = new[] { new { account = "platform:vendor:evil:EUR", amount = 100_00 } } });
        await ShouldRefuse(madeUp, HttpStatusCode.UnprocessableEntity, "invalid_capture_legs");
        var hostile = await client.PostAsJsonAsync($"/admin/partners/{partner}/wallets/EUR/holds/h-1/capture",
            new { amount = 100_00, legs = new[] { new { account = "platform:vendor:\u202eevil\n:EUR", amount = 100_00 } } });
        hostile.IsSuccessStatusCode.Should().BeFalse("no leg may create an account out of what a request sent");
        (await Events<IWalletEvent>($"wallet-{partner}-EUR")).OfType<HoldCaptured>().Should().BeEmpty();

        var revenue = await client.PostAsJsonAsync($"/admin/partners/{partner}/wallets/EUR/holds/h-1/capture",
            new { amount = 100_00, legs = new[] { new { account = "platform:revenue:EUR", amount = 100_00 } } });
        revenue.StatusCode.Should().Be(HttpStatusCode.Created);
    }

    [Test, CancelAfter(60_000)]
    public async Task a_currency_that_is_three_capitals_but_not_iso_4217_is_refused_naming_it()
    {
        var partner = await Partner();
        var open = await client.PostAsJsonAsync($"/admin/partners/{partner}/wallets", new { currency = "QQQ" });
        open.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        var errors = (await open.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        errors.GetProperty("currency")[0].GetString().Should().Contain("'QQQ'");
        (await client.GetAsync($"/admin/partners/{partner}/wallets/QQQ")).IsSuccessStatusCode.Should().BeFalse();

        var receipt = await client.PostAsJsonAsync($"/admin/inventory/{Sku()}/wh-1/receipts",
            new { receiptId = "r1", quantity = 1, unitCost = 100, currency = "QQQ" });
        receipt.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await receipt.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").GetProperty("currency")[0].GetString().Should().Contain("'QQQ'");
    }

    // ---- quantities ----

    [Test, CancelAfter(60_000)]
    public async Task an_adjustment_of_the_smallest_long_is_refused_and_on_hand_stays()
    {
        var (sku, location) = await Stocked(10);
        var response = await client.PostAsJsonAsync($"/admin/inventory/{sku}/{location}/adjustments",
            new { adjustmentId = "a1", quantity = long.MinValue, reason = "count_correction" });
        await ShouldRefuse(response, HttpStatusCode.UnprocessableEntity, "quantity_out_of_range");
        (await Level(sku, location)).GetProperty("onHand").GetInt64().Should().Be(10);
    }

    [Test, CancelAfter(90_000)]
    public async Task receiving_past_the_bound_by_receipt_found_units_or_a_transfer_is_refused_and_stock_levels_keep_going()
    {
        var (sku, location) = await Stocked(Quantity.Max);
        await ShouldRefuse(await Receive(sku, "wh-huge", "r1", long.MaxValue), HttpStatusCode.UnprocessableEntity, "quantity_out_of_range");
        await ShouldRefuse(await Receive(sku, location, "r2", 1), HttpStatusCode.UnprocessableEntity, "quantity_out_of_range");
        await ShouldRefuse(await client.PostAsJsonAsync($"/admin/inventory/{sku}/{location}/adjustments",
            new { adjustmentId = "a1", quantity = 1, reason = "found" }), HttpStatusCode.UnprocessableEntity, "quantity_out_of_range");
        (await Receive(sku, "wh-2", "r1", 5)).StatusCode.Should().Be(HttpStatusCode.Created);
        await ShouldRefuse(await client.PostAsJsonAsync($"/admin/inventory/{sku}/wh-2/transfers",
            new { transferId = "t1", toLocation = location, quantity = 1 }), HttpStatusCode.UnprocessableEntity, "quantity_out_of_range");
        (await Level(sku, "wh-2")).GetProperty("onHand").GetInt64().Should().Be(5, "a transfer refused up front moves nothing");
        (await Level(sku, location)).GetProperty("onHand").GetInt64().Should().Be(Quantity.Max);

        (await Receive("marker-" + sku[..10], "wh-1", "r1", 1)).StatusCode.Should().Be(HttpStatusCode.Created);
        await Eventually.True(async () => await db.Scalar<long>(
                $"select count(*) from read.stock_levels where sku = 'marker-{sku[..10]}' and on_hand = 1") == 1,
            TimeSpan.FromSeconds(60), "read.stock_levels goes on past the refused movements");
        (await db.Scalar<long>($"select on_hand from read.stock_levels where sku = '{sku}' and location = '{location}'")).Should().Be(Quantity.Max);
    }

    [Test, CancelAfter(60_000)]
    public async Task a_low_stock_threshold_on_an_item_that_does_not_exist_is_404_and_creates_no_stream()
    {
        var sku = Sku();
        var response = await client.PutAsJsonAsync($"/admin/inventory/{sku}/nowhere/low-threshold", new { threshold = 5 });
        await ShouldRefuse(response, HttpStatusCode.NotFound, "stock_not_found");
        (await Events<IStockEvent>(Stock.StreamName(sku, "nowhere"))).Should().BeEmpty();
    }

    [Test, CancelAfter(60_000)]
    public async Task an_adjustment_reason_must_agree_with_the_sign()
    {
        var (sku, location) = await Stocked(10);
        await ShouldRefuse(await client.PostAsJsonAsync($"/admin/inventory/{sku}/{location}/adjustments",
            new { adjustmentId = "a1", quantity = 3, reason = "damaged" }), HttpStatusCode.UnprocessableEntity, "reason_sign_mismatch");
        await ShouldRefuse(await client.PostAsJsonAsync($"/admin/inventory/{sku}/{location}/adjustments",
            new { adjustmentId = "a2", quantity = -3, reason = "found" }), HttpStatusCode.UnprocessableEntity, "reason_sign_mismatch");
        (await Level(sku, location)).GetProperty("onHand").GetInt64().Should().Be(10);
    }

    [Test, CancelAfter(60_000)]
    public async Task found_units_on_an_item_never_stocked_are_refused_instead_of_creating_units_without_a_currency()
    {
        var sku = Sku();
        await ShouldRefuse(await client.PostAsJsonAsync($"/admin/inventory/{sku}/wh-1/adjustments",
            new { adjustmentId = "a1", quantity = 3, reason = "found" }), HttpStatusCode.UnprocessableEntity, "never_stocked");
        (await Events<IStockEvent>(Stock.StreamName(sku, "wh-1"))).Should().BeEmpty();
    }

    [Test, CancelAfter(60_000)]
    public async Task a_refused_transfer_says_it_was_the_transfer()
    {
        var (sku, location) = await Stocked(2);
        var response = await client.PostAsJsonAsync($"/admin/inventory/{sku}/{location}/transfers",
            new { transferId = "t1", toLocation = "wh-2", quantity = 3 });
        response.StatusCode.Should().Be(HttpStatusCode.UnprocessableEntity);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        problem.GetProperty("code").GetString().Should().Be("insufficient_stock");
        problem.GetProperty("detail").GetString().Should().Contain("transfer").And.NotContain("adjustment");
    }

    // ---- helpers ----

    private static async Task ShouldRefuse(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        var body = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(status, body);
        JsonDocument.Parse(body).RootElement.GetProperty("code").GetString().Should().Be(code, body);
    }

    private async Task<string> Partner(string? parent = null)
    {
        var partner = $"p{Guid.NewGuid():N}"[..12];
        (await client.PostAsJsonAsync("/admin/partners", new { partnerId = partner, name = "Bounds partner", contactEmail = "ops@example.com",
                parentPartnerId = parent }))
            .IsSuccessStatusCode.Should().BeTrue();
        return partner;
    }

    private async Task<string> Wallet(long funded = 0)
    {
        var partner = await Partner();
        (await client.PostAsJsonAsync($"/admin/partners/{partner}/wallets", new { currency = "EUR" })).StatusCode.Should().Be(HttpStatusCode.Created);
        if (funded > 0) (await Deposit(partner, "seed", funded)).StatusCode.Should().Be(HttpStatusCode.Created);
        return partner;
    }

    private Task<HttpResponseMessage> Deposit(string partner, string key, long amount)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/admin/partners/{partner}/wallets/EUR/deposits")
            { Content = JsonContent.Create(new { amount, reference = "bank" }) };
        request.Headers.Add("Idempotency-Key", key);
        return client.SendAsync(request);
    }

    private async Task Hold(string partner, string transferId, long amount) =>
        (await client.PostAsJsonAsync($"/admin/partners/{partner}/wallets/EUR/holds", new { transferId, amount })).StatusCode
            .Should().Be(HttpStatusCode.Created);

    private static string Sku() => $"sku-{Guid.NewGuid():N}"[..20];

    private async Task<(string Sku, string Location)> Stocked(long quantity)
    {
        var sku = Sku();
        (await Receive(sku, "wh-1", "first", quantity)).StatusCode.Should().Be(HttpStatusCode.Created);
        return (sku, "wh-1");
    }

    private Task<HttpResponseMessage> Receive(string sku, string location, string receiptId, long quantity) =>
        client.PostAsJsonAsync($"/admin/inventory/{sku}/{location}/receipts", new { receiptId, quantity, unitCost = 4_50, currency = "EUR" });

    private async Task<JsonElement> Level(string sku, string location) =>
        await client.GetFromJsonAsync<JsonElement>($"/admin/inventory/{sku}/{location}");

    private async Task<List<T>> Events<T>(string stream)
    {
        var registry = factory.Services.GetRequiredService<EventTypeRegistry>();
        var slice = await factory.Services.GetRequiredService<IEventStore>().ReadStream(stream);
        return slice.Events.Select(e => (T)registry.Deserialize(e.Type, e.Data.Span)!).ToList();
    }
}
