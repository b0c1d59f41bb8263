using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using FluentAssertions;
using Microsoft.Extensions.DependencyInjection;
using NUnit.Framework;
using Steller.Client;
using Steller.Projections.Inventory;
using Steller.Projections.Wallets;
using Steller.Testing;

namespace Steller.Api.Tests.Orders;

/// <summary>Placing and fulfilling orders end to end: signed API, real PostgreSQL, the vendor simulator over HTTP.</summary>
public sealed class OrderPlacementTests() : OrderFixture("orders")
{
    [Test, CancelAfter(90_000)]
    public async Task a_gift_card_order_is_fulfilled_with_codes_only_the_owner_sees_and_charged_exactly_once()
    {
        using var partner = await Partner("gc-buyer", 1_000_00);
        var placed = await partner.PlaceOrder("gc-1", [new NewOrderLine(Amazon25, 2, 25_00)]);
        placed.Status.Should().Be("FundsHeld");
        placed.Total.Should().Be(2 * 25_00, "no margin set: the partner pays face value");

        var order = await Terminal(partner, placed.OrderId);
        order.Status.Should().Be("Completed");
        order.Captured.Should().Be(50_00);
        var cards = order.Lines.Single().Cards!;
        cards.Should().HaveCount(2).And.OnlyContain(c => !string.IsNullOrEmpty(c.Code) && !string.IsNullOrEmpty(c.Pin));
        (await sim.Orders("giftcard")).Should().ContainSingle("one vendor order per Steller order");
        (await Wallet("gc-buyer")).Should().Be((1_000_00 - 50_00, 0L));

        var asAdmin = await admin.GetFromJsonAsync<JsonElement>($"/admin/orders/{placed.OrderId}");
        asAdmin.GetProperty("lines")[0].GetProperty("cards")[0].GetProperty("code").ValueKind.Should().Be(JsonValueKind.Null, "admins never see codes");
        using var other = await Partner("gc-other", 0);
        var foreign = async () => await other.GetOrder(placed.OrderId);
        (await foreign.Should().ThrowAsync<StellerApiException>()).Which.Status.Should().Be(404);
    }

    [Test, CancelAfter(90_000)]
    public async Task a_top_up_order_completes_when_the_vendor_finishes_later()
    {
        using var partner = await Partner("tu-buyer", 100_00);
        await sim.Script(new { vendor = "topup", operation = "transfer", action = "slow", polls = 2 });
        var placed = await partner.PlaceOrder("tu-1", [new NewOrderLine(Vodafone15, 1, 15_00)], recipientPhone: Phone);
        var order = await Terminal(partner, placed.OrderId);
        order.Status.Should().Be("Completed");
        order.Lines.Single().Delivered.Should().Be(1);
        (await sim.Orders("topup")).Should().ContainSingle();
        (await Wallet("tu-buyer")).Should().Be((100_00 - 15_00, 0L));
    }

    [Test, CancelAfter(90_000)]
    public async Task a_stocked_voucher_order_hands_over_the_oldest_code()
    {
        var codes = Enumerable.Range(1, 3).Select(i => $"CINEMA-{i}-{Guid.NewGuid():N}").ToList();
        await StockedVoucher("cinema-10", 10_00, 8_00, codes);
        using var partner = await Partner("v-buyer", 100_00);
        var placed = await partner.PlaceOrder("v-1", [new NewOrderLine("cinema-10", 2, 10_00)]);
        var order = await Terminal(partner, placed.OrderId);
        order.Status.Should().Be("Completed");
        order.Lines.Single().Cards!.Select(c => c.Code).Should().Equal(codes[0], codes[1]);
        var stock = await admin.GetFromJsonAsync<JsonElement>("/admin/inventory/cinema-10/main");
        (stock.GetProperty("onHand").GetInt64(), stock.GetProperty("reserved").GetInt64()).Should().Be((1, 0));
    }

    [Test, CancelAfter(90_000)]
    public async Task a_multi_line_order_fulfils_every_line_and_captures_their_sum()
    {
        await StockedVoucher("cinema-20", 20_00, 15_00, ["M-1", "M-2"]);
        using var partner = await Partner("multi-buyer", 500_00);
        var placed = await partner.PlaceOrder("m-1", [new NewOrderLine(Amazon25, 1, 25_00), new NewOrderLine(Vodafone15, 2, 15_00), new NewOrderLine("cinema-20", 1, 20_00)],
            recipientPhone: Phone);
        var order = await Terminal(partner, placed.OrderId);
        order.Status.Should().Be("Completed");
        order.Lines.Select(l => l.Delivered).Should().Equal(1, 2, 1);
        order.Captured.Should().Be(25_00 + 2 * 15_00 + 20_00);
        (await sim.Orders("topup")).Should().HaveCount(2, "one transfer per top-up unit");
    }

    [Test, CancelAfter(90_000)]
    public async Task a_vendor_reject_fails_the_order_and_releases_the_funds()
    {
        using var partner = await Partner("rej-buyer", 100_00);
        await sim.Script(new { vendor = "giftcard", operation = "checkout", action = "reject", reason = "Brand out of stock" });
        var placed = await partner.PlaceOrder("rej-1", [new NewOrderLine(Amazon25, 1, 25_00)]);
        var order = await Terminal(partner, placed.OrderId);
        order.Status.Should().Be("Failed");
        order.FailureReason.Should().Contain("out of stock");
        (await Wallet("rej-buyer")).Should().Be((100_00, 0L), "nothing captured, the hold released");
    }

    [Test, CancelAfter(90_000)]
    public async Task an_admin_retries_a_failed_order_which_then_completes_and_is_charged_once()
    {
        using var partner = await Partner("retry-buyer", 100_00);
        await sim.Script(new { vendor = "giftcard", operation = "checkout", action = "reject", reason = "Temporarily out of codes" });
        var placed = await partner.PlaceOrder("retry-1", [new NewOrderLine(Amazon25, 1, 25_00)]);
        (await Terminal(partner, placed.OrderId)).Status.Should().Be("Failed");
        (await Wallet("retry-buyer")).Should().Be((100_00, 0L));

        var retry = await admin.PostAsJsonAsync($"/admin/orders/{placed.OrderId}/retry", new { reason = "vendor restocked" });
        retry.StatusCode.Should().Be(HttpStatusCode.OK);
        var order = await Terminal(partner, placed.OrderId);
        order.Status.Should().Be("Completed");
        order.Lines.Single().Cards.Should().ContainSingle();
        (await Wallet("retry-buyer")).Should().Be((100_00 - 25_00, 0L), "the failed round released its hold; the new round captured once");
        (await sim.Orders("giftcard")).Should().ContainSingle("the refused first round created nothing at the vendor");
        (await admin.PostAsJsonAsync($"/admin/orders/{placed.OrderId}/retry", new { reason = "again" })).StatusCode
            .Should().Be(HttpStatusCode.Conflict, "a completed order is not retried");
        await Eventually.True(async () => await db.Scalar<long>($"select count(*) from read.orders where order_id = '{placed.OrderId}' and status = 'Completed' and delivered = 1") == 1,
            TimeSpan.FromSeconds(30), "read.orders follows the new round");
    }

    [Test, CancelAfter(90_000)]
    public async Task transient_vendor_errors_are_retried_to_success_without_a_second_vendor_order()
    {
        using var partner = await Partner("flaky-buyer", 100_00);
        await sim.Script(new { vendor = "giftcard", operation = "checkout", action = "status", status = 503, times = 2 });
        var placed = await partner.PlaceOrder("flaky-1", [new NewOrderLine(Amazon25, 1, 25_00)]);
        var order = await Terminal(partner, placed.OrderId);
        order.Status.Should().Be("Completed");
        (await sim.Requests("giftcard", "checkout")).Count(r => r.Status == 503).Should().Be(2);
        (await sim.Orders("giftcard")).Should().ContainSingle();
    }

    [Test, CancelAfter(90_000)]
    public async Task a_partial_vendor_failure_captures_only_the_delivered_part()
    {
        using var partner = await Partner("part-buyer", 500_00);
        await sim.Script(new { vendor = "giftcard", operation = "checkout", action = "partial", delivered = 2 });
        var placed = await partner.PlaceOrder("part-1", [new NewOrderLine(Amazon25, 5, 25_00)]);
        var order = await Terminal(partner, placed.OrderId);
        order.Status.Should().Be("PartiallyCompleted");
        order.Lines.Single().Delivered.Should().Be(2);
        order.Lines.Single().Cards.Should().HaveCount(2);
        order.Captured.Should().Be(2 * 25_00);
        (await Wallet("part-buyer")).Should().Be((500_00 - 50_00, 0L));
    }

    [Test, CancelAfter(90_000)]
    public async Task fifty_concurrent_duplicates_make_one_order_and_the_same_answer_and_another_body_is_a_conflict()
    {
        using var partner = await Partner("dup-buyer", 1_000_00);
        var bodies = await Task.WhenAll(Enumerable.Range(0, 50).Select(async _ =>
        {
            var response = await partner.Http.PostAsJsonAsync("v1/orders", new { clientReference = "dup-1", lines = new[] { new { sku = Amazon25, quantity = 1, faceValue = 25_00 } } });
            response.StatusCode.Should().Be(HttpStatusCode.Accepted);
            return await response.Content.ReadAsStringAsync();
        }));
        bodies.Distinct().Should().ContainSingle("every duplicate gets the same answer");
        var orderId = JsonDocument.Parse(bodies[0]).RootElement.GetProperty("orderId").GetString()!;
        await Terminal(partner, orderId);
        (await sim.Orders("giftcard")).Should().ContainSingle();
        (await Wallet("dup-buyer")).Posted.Should().Be(1_000_00 - 25_00, "charged once");

        var conflict = await partner.Http.PostAsJsonAsync("v1/orders", new { clientReference = "dup-1", lines = new[] { new { sku = Amazon25, quantity = 2, faceValue = 25_00 } } });
        conflict.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await conflict.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString().Should().Be("idempotency_conflict");
    }

    [Test, CancelAfter(60_000)]
    public async Task refused_orders_answer_422_with_the_reason_and_hold_nothing()
    {
        await StockedVoucher("cinema-5", 5_00, 4_00, ["S-1"]);
        using var partner = await Partner("poor-buyer", 10_00);
        async Task<string> Code(string reference, string sku, int quantity, long face)
        {
            var response = await partner.Http.PostAsJsonAsync("v1/orders", new { clientReference = reference, lines = new[] { new { sku, quantity, faceValue = face } } });
            response.StatusCode.Should().Be(HttpStatusCode.UnprocessableEntity);
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
            problem.GetProperty("orderId").GetString().Should().StartWith("ord-");
            return problem.GetProperty("code").GetString()!;
        }
        (await Code("r-funds", Amazon25, 1, 25_00)).Should().Be("insufficient_funds");
        (await Code("r-sku", "no-such-sku", 1, 25_00)).Should().Be("unknown_sku");
        (await Code("r-face", Amazon25, 1, 30_00)).Should().Be("face_value_out_of_range");
        (await Code("r-stock", "cinema-5", 2, 5_00)).Should().Be("stock_exhausted");
        (await Code("r-stock", "cinema-5", 2, 5_00)).Should().Be("stock_exhausted", "a repeat gets the same answer");

        (await Wallet("poor-buyer")).Should().Be((10_00, 0L));
        var stock = await admin.GetFromJsonAsync<JsonElement>("/admin/inventory/cinema-5/main");
        stock.GetProperty("reserved").GetInt64().Should().Be(0, "the failed placement released what it reserved");
    }

    [Test]
    public async Task a_bad_order_request_is_a_400_naming_every_bad_field_and_writes_nothing()
    {
        using var partner = await Partner("bad-buyer", 10_00);
        var before = await db.Scalar<long>("select count(*) from es.events");
        var response = await partner.Http.PostAsync("v1/orders", new StringContent(
            """{"clientReference":"has space","lines":[{"sku":"UPPER","quantity":0,"faceValue":-1},null],"recipient":{"phone":"0151","email":"x"}}""",
            Encoding.UTF8, "application/json"));
        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        var errors = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        errors.EnumerateObject().Select(p => p.Name).Should().BeEquivalentTo(
            ["clientReference", "lines[0].sku", "lines[0].quantity", "lines[0].faceValue", "lines[1]", "recipient.phone", "recipient.email"]);

        var noPhone = await partner.Http.PostAsJsonAsync("v1/orders", new { clientReference = "np-1", lines = new[] { new { sku = Vodafone15, quantity = 1, faceValue = 15_00 } } });
        noPhone.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await noPhone.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("recipient.phone", out _).Should().BeTrue();
        (await db.Scalar<long>("select count(*) from es.events where stream_id like 'order-%'")).Should().Be(
            await db.Scalar<long>("select count(*) from es.events where stream_id like 'order-%' and recorded_at < now()"), "sanity");
        (await db.Scalar<long>("select count(*) from es.events where event_type like 'order.%' and data::text like '%np-1%'")).Should().Be(0, "nothing written");
    }

    [Test]
    public async Task a_missing_order_field_is_named_as_required()
    {
        using var partner = await Partner("req-buyer", 10_00);
        var response = await partner.Http.PostAsync("v1/orders", new StringContent(
            """{"lines":[{"sku":"cinema-5","quantity":1}]}""", Encoding.UTF8, "application/json"));
        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        var errors = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        errors.GetProperty("clientReference")[0].GetString().Should().Be("required");
        errors.GetProperty("lines[0].faceValue")[0].GetString().Should().Be("required");
        errors.EnumerateObject().Select(p => p.Name).Should().BeEquivalentTo(["clientReference", "lines[0].faceValue"]);
    }

    [Test, CancelAfter(90_000)]
    public async Task a_stale_if_match_on_an_order_command_answers_412_with_the_current_etag_and_appends_nothing()
    {
        using var partner = await Partner("ifm-buyer", 100_00);
        var placed = await partner.PlaceOrder("ifm-1", [new NewOrderLine(Amazon25, 2, 25_00)]);
        await Terminal(partner, placed.OrderId);
        var current = (await admin.GetAsync($"/admin/orders/{placed.OrderId}")).Headers.ETag!.Tag;
        var revision = long.Parse(current.Trim('"'));
        var stream = Steller.Domain.Orders.Order.StreamName(placed.OrderId);
        var events = await db.Scalar<long>($"select count(*) from es.events where stream_id = '{stream}'");

        async Task<HttpResponseMessage> Send(string path, object body, string ifMatch)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, $"/admin/orders/{placed.OrderId}/{path}") { Content = JsonContent.Create(body) };
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
            return await admin.SendAsync(request);
        }
        foreach (var (path, body) in new (string, object)[]
                 {
                     ("cancel", new { reason = "changed plans" }), ("retry", new { reason = "again" }),
                     ("refunds", new { refundId = "rf-1", amount = 25_00, reason = "one card unused" }),
                 })
        {
            var stale = await Send(path, body, $"\"{revision - 1}\"");
            stale.StatusCode.Should().Be(HttpStatusCode.PreconditionFailed, path);
            (await stale.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString().Should().Be("precondition_failed");
            stale.Headers.ETag!.Tag.Should().Be(current, "the answer names the current revision");
        }
        (await db.Scalar<long>($"select count(*) from es.events where stream_id = '{stream}'")).Should().Be(events, "a stale If-Match appends nothing");
        (await Wallet("ifm-buyer")).Posted.Should().Be(50_00, "nothing was refunded");

        var refund = await Send("refunds", new { refundId = "rf-1", amount = 25_00, reason = "one card unused" }, current);
        refund.StatusCode.Should().Be(HttpStatusCode.Created, "the current ETag lets the command run");
        refund.Headers.ETag!.Tag.Should().Be($"\"{revision + 1}\"");
        (await Wallet("ifm-buyer")).Posted.Should().Be(75_00);
    }

    [Test, CancelAfter(90_000)]
    public async Task codes_and_pins_never_appear_in_plaintext_in_logs_events_or_tables()
    {
        using var partner = await Partner("leak-buyer", 500_00);
        var placed = await partner.PlaceOrder("leak-1", [new NewOrderLine(Amazon25, 3, 25_00)]);
        var order = await Terminal(partner, placed.OrderId);
        var secrets = order.Lines.SelectMany(l => l.Cards!).SelectMany(c => new[] { c.Code!, c.Pin! }).ToList();
        secrets.Should().HaveCount(6).And.OnlyContain(s => s.Length >= 12);
        await Eventually.True(async () => await db.Scalar<long>($"select count(*) from read.orders where order_id = '{placed.OrderId}' and status = 'Completed'") == 1,
            TimeSpan.FromSeconds(30), "read.orders caught up");

        foreach (var secret in secrets)
        {
            factory.Logs.Lines.Should().NotContain(l => l.Contains(secret), "a code or PIN must never be logged");
            sim.Logs.Lines.Should().NotContain(l => l.Contains(secret));
            (await db.Scalar<long>($"select count(*) from es.events where data::text like '%{secret}%' or metadata::text like '%{secret}%'")).Should().Be(0);
            foreach (var table in await db.TablesAndViews())
                (await db.Scalar<long>($"select count(*) from {table} t where t::text like '%{secret}%'")).Should().Be(0, $"{table} must not hold a code or PIN");
        }
    }

    [Test, CancelAfter(120_000)]
    public async Task a_partner_lists_its_orders_newest_first_in_pages()
    {
        using var partner = await Partner("list-buyer", 1_000_00);
        var ids = new List<string>();
        for (var i = 0; i < 5; i++) ids.Add((await partner.PlaceOrder($"list-{i}", [new NewOrderLine(Amazon25, 1, 25_00)])).OrderId);
        await Eventually.True(async () => await db.Scalar<long>("select count(*) from read.orders where partner_id = 'list-buyer'") == 5, TimeSpan.FromSeconds(30), "read.orders has them");

        var seen = new List<string>();
        string? after = null;
        do
        {
            var page = await partner.Http.GetFromJsonAsync<JsonElement>("v1/orders?limit=2" + (after is null ? "" : $"&after={Uri.EscapeDataString(after)}"));
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(o => o.GetProperty("orderId").GetString()!));
            after = page.GetProperty("next").ValueKind == JsonValueKind.String ? page.GetProperty("next").GetString() : null;
        } while (after is not null);
        seen.Should().BeEquivalentTo(ids).And.OnlyHaveUniqueItems();
        (await partner.Http.GetAsync("v1/orders?status=Nope")).StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await partner.Http.GetAsync("v1/orders?after=garbage")).StatusCode.Should().Be(HttpStatusCode.BadRequest);
    }

    [Test, CancelAfter(120_000)]
    public async Task a_refund_credits_the_wallet_once_and_never_more_than_was_captured()
    {
        using var partner = await Partner("refund-buyer", 100_00);
        var placed = await partner.PlaceOrder("refund-1", [new NewOrderLine(Amazon25, 2, 25_00)]);
        await Terminal(partner, placed.OrderId);
        var first = await admin.PostAsJsonAsync($"/admin/orders/{placed.OrderId}/refunds", new { refundId = "rf-1", amount = 25_00, reason = "one card unused" });
        first.StatusCode.Should().Be(HttpStatusCode.Created);
        (await admin.PostAsJsonAsync($"/admin/orders/{placed.OrderId}/refunds", new { refundId = "rf-1", amount = 25_00, reason = "one card unused" }))
            .StatusCode.Should().Be(HttpStatusCode.OK, "the same refund again is a no-op");
        var tooMuch = await admin.PostAsJsonAsync($"/admin/orders/{placed.OrderId}/refunds", new { refundId = "rf-2", amount = 25_01, reason = "more" });
        tooMuch.StatusCode.Should().Be(HttpStatusCode.UnprocessableEntity);
        (await admin.PostAsJsonAsync($"/admin/orders/{placed.OrderId}/refunds", new { refundId = "rf-3", amount = 25_00, reason = "rest" }))
            .StatusCode.Should().Be(HttpStatusCode.Created);
        (await Wallet("refund-buyer")).Posted.Should().Be(100_00, "both halves came back, once each");
        (await admin.GetFromJsonAsync<JsonElement>($"/admin/orders/{placed.OrderId}")).GetProperty("status").GetString().Should().Be("Refunded");
    }

    [Test, CancelAfter(90_000)]
    public async Task admins_see_the_order_in_partner_daily_stats_and_the_vendor_calls_in_vendor_health()
    {
        using var partner = await Partner("stats-buyer", 100_00);
        var placed = await partner.PlaceOrder("stats-1", [new NewOrderLine(Amazon25, 1, 25_00)]);
        await Terminal(partner, placed.OrderId);
        var day = placed.PlacedAt.UtcDateTime.ToString("yyyy-MM-dd");

        JsonElement row = default;
        await Eventually.True(async () =>
        {
            var rows = await admin.GetFromJsonAsync<JsonElement>($"/admin/reports/partner-daily-stats?partnerId=stats-buyer&from={day}&to={day}");
            row = rows.EnumerateArray().FirstOrDefault();
            return row.ValueKind == JsonValueKind.Object && row.GetProperty("ordersCompleted").GetInt64() == 1;
        }, TimeSpan.FromSeconds(30), "the daily stats count the completed order");
        row.GetProperty("partnerSpend").GetInt64().Should().Be(25_00);
        (row.GetProperty("revenue").GetInt64() + row.GetProperty("vendorCost").GetInt64()).Should().Be(25_00, "spend = revenue + vendor cost");

        await Eventually.True(async () =>
        {
            var health = await admin.GetFromJsonAsync<JsonElement>("/admin/vendors/health");
            return health.EnumerateArray().Any(v => v.GetProperty("vendor").GetString() == "giftcard" && v.GetProperty("calls").GetInt64() > 0
                                                    && v.GetProperty("lastCatalogSyncAt").ValueKind == JsonValueKind.String);
        }, TimeSpan.FromSeconds(30), "vendor health shows the gift-card calls and the catalog sync");

        (await admin.GetAsync("/admin/reports/partner-daily-stats?from=2026-13-01&to=x")).StatusCode.Should().Be(HttpStatusCode.BadRequest);
    }
}
