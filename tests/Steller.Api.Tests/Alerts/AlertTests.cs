using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FluentAssertions;
using Microsoft.Extensions.DependencyInjection;
using NUnit.Framework;
using Steller.Api.Tests.Webhooks;
using Steller.Application.Alerts;
using Steller.Domain.Alerts;
using Steller.Projections.Alerts;
using Steller.Testing;

namespace Steller.Api.Tests.Alerts;

/// <summary>
/// Operational alerts end to end: each kind the watch knows opens once while its cause lasts and closes when it is gone (the
/// watch is run by the test, on the API's controllable clock), the admin list and acknowledgement, and the admins' webhook
/// endpoints receiving alert.opened and alert.closed.
/// </summary>
public sealed class AlertTests() : WebhookFixture("alerts")
{
    protected override IReadOnlyDictionary<string, string?> ExtraSettings => new Dictionary<string, string?>
    {
        ["Webhooks:AllowPrivateTargets"] = "true",
        ["Webhooks:PollMilliseconds"] = "50",
        ["Webhooks:RetryScheduleSeconds"] = "0,60,60",   // three attempts over two minutes of the test clock
        ["Alerts:CheckSeconds"] = "3600",                // the tests run the watch themselves
    };

    private AlertWatch Watch => factory.Services.GetRequiredService<AlertWatch>();

    private async Task<JsonElement[]> Alerts(string query = "")
    {
        var page = await admin.GetFromJsonAsync<JsonElement>($"/admin/alerts{query}");
        return page.GetProperty("items").EnumerateArray().ToArray();
    }

    /// <summary>The alerts of one cause, oldest first, once read.alerts shows <paramref name="expected"/> of them in <paramref name="status"/>.</summary>
    private async Task<JsonElement[]> AlertsOf(string kind, string subject, int expected, string status)
    {
        JsonElement[] found = [];
        await Eventually.True(async () =>
        {
            found = (await Alerts($"?kind={kind}&limit=500")).Where(a => a.GetProperty("subject").GetString() == subject).Reverse().ToArray();
            return found.Length == expected && found[^1].GetProperty("status").GetString() == status;
        }, TimeSpan.FromSeconds(20), $"{expected} {kind} alert(s) of {subject}, the last {status}");
        return found;
    }

    [Test]
    public async Task a_low_stock_item_opens_one_alert_however_often_the_watch_looks_and_it_closes_when_restocked()
    {
        const string sku = "voucher-alert-low";
        await StockedVoucher(sku, 10_00, 8_00, ["LOW-1", "LOW-2"]);
        (await admin.PutAsJsonAsync($"/admin/inventory/{sku}/main/low-threshold", new { threshold = 5 })).EnsureSuccessStatusCode();
        await Eventually.True(async () => await db.Scalar<long>($"select count(*) from read.low_stock where sku = '{sku}'") == 1,
            TimeSpan.FromSeconds(20), "the item is low");

        await Watch.Check(CancellationToken.None);
        var opened = (await AlertsOf(AlertKinds.StockLow, $"{sku}@main", 1, "open")).Single();
        opened.GetProperty("details").GetString().Should().Contain("2 available").And.Contain("threshold 5");
        for (var i = 0; i < 3; i++) await Watch.Check(CancellationToken.None);
        await Task.Delay(300);
        (await AlertsOf(AlertKinds.StockLow, $"{sku}@main", 1, "open")).Should().ContainSingle("it does not repeat while the cause lasts");

        (await admin.PostAsJsonAsync($"/admin/inventory/{sku}/main/receipts",
            new { receiptId = "r2", quantity = 5, unitCost = 8_00, currency = "EUR", voucherCodes = new[] { "LOW-3", "LOW-4", "LOW-5", "LOW-6", "LOW-7" } }))
            .StatusCode.Should().Be(HttpStatusCode.Created);
        await Eventually.True(async () => await db.Scalar<long>($"select count(*) from read.low_stock where sku = '{sku}'") == 0,
            TimeSpan.FromSeconds(20), "the item is no longer low");
        await Watch.Check(CancellationToken.None);
        var closed = (await AlertsOf(AlertKinds.StockLow, $"{sku}@main", 1, "closed")).Single();
        closed.GetProperty("id").GetString().Should().Be(opened.GetProperty("id").GetString());
        closed.GetProperty("closedAt").ValueKind.Should().Be(JsonValueKind.String);
    }

    [Test]
    public async Task a_product_newly_priced_below_cost_opens_an_alert_per_partner_that_closes_when_the_cost_is_fixed()
    {
        using var partner = await Partner("alert-margin", 0);
        const string sku = "voucher-alert-margin";
        var define = new { name = "Voucher", brand = "Cinema", country = "DE", currency = "EUR", type = "voucher", faceValue = 10_00, costAmount = 12_00 };
        (await admin.PutAsJsonAsync($"/admin/catalog/products/{sku}", define)).EnsureSuccessStatusCode();
        await Eventually.True(async () => await db.Scalar<long>(
                $"select count(*) from read.negative_margin_products where sku = '{sku}' and partner_id = 'alert-margin'") == 1,
            TimeSpan.FromSeconds(20), "the price guardrail sees it");

        await Watch.Check(CancellationToken.None);
        await Watch.Check(CancellationToken.None);
        var alert = (await AlertsOf(AlertKinds.NegativeMargin, $"alert-margin/{sku}", 1, "open")).Single();
        alert.GetProperty("details").GetString().Should().Contain("below its cost 1200");

        (await admin.PutAsJsonAsync($"/admin/catalog/products/{sku}", define with { costAmount = 8_00 })).EnsureSuccessStatusCode();
        await Eventually.True(async () => await db.Scalar<long>($"select count(*) from read.negative_margin_products where sku = '{sku}'") == 0,
            TimeSpan.FromSeconds(20), "the margin is positive again");
        await Watch.Check(CancellationToken.None);
        await AlertsOf(AlertKinds.NegativeMargin, $"alert-margin/{sku}", 1, "closed");
    }

    [Test]
    public async Task an_order_stuck_longer_than_configured_opens_an_alert_only_once_the_clock_passed_the_limit_and_it_closes_when_it_finishes()
    {
        using var buyer = await Partner("alert-stuck", 100_00);
        // The vendor keeps the checkout processing for 20 s of real time: long enough to move the API's clock past the limit.
        await sim.Script(new { vendor = "giftcard", operation = "checkout", action = "slow", polls = 1, delayMs = 20_000, times = 1 });
        var placed = await buyer.PlaceOrder("alert-stuck-1", [new Steller.Client.NewOrderLine(Amazon25, 1, 25_00)]);
        await Eventually.True(async () => await db.Scalar<string>($"select status from read.orders where order_id = '{placed.OrderId}'") == "Submitted",
            TimeSpan.FromSeconds(30), "the order reached the vendor");

        await Watch.Check(CancellationToken.None);
        await Task.Delay(500);
        (await Alerts($"?kind={AlertKinds.OrderStuck}")).Should().NotContain(a => a.GetProperty("subject").GetString() == placed.OrderId,
            "30 minutes have not passed");

        factory.Clock.Advance(TimeSpan.FromMinutes(31));
        await Watch.Check(CancellationToken.None);
        await Watch.Check(CancellationToken.None);
        var alert = (await AlertsOf(AlertKinds.OrderStuck, placed.OrderId, 1, "open")).Single();
        alert.GetProperty("details").GetString().Should().Contain("Submitted");

        await Terminal(buyer, placed.OrderId, 90); // the vendor finishes the checkout
        await Eventually.True(async () => await db.Scalar<string>($"select status from read.orders where order_id = '{placed.OrderId}'") != "Submitted",
            TimeSpan.FromSeconds(30), "read.orders sees it finished");
        await Watch.Check(CancellationToken.None);
        await AlertsOf(AlertKinds.OrderStuck, placed.OrderId, 1, "closed");
    }

    [Test]
    public async Task a_vendor_over_the_error_threshold_in_every_minute_of_five_opens_an_alert_and_one_good_minute_keeps_the_429_alert_shut()
    {
        var now = factory.Clock.UtcNow;
        // Five minutes of calls to "alert-vendor": 10 a minute, 5 failing every minute; 429s above the threshold in four minutes only.
        for (var minute = 1; minute <= 5; minute++)
            for (var call = 0; call < 10; call++)
                await db.DataSource.CreateCommand($"""
                    insert into ops.vendor_calls (at, vendor, operation, status, latency_ms, was_429, was_error)
                    values ('{now.AddMinutes(-minute).AddSeconds(5 + call).UtcDateTime:O}', 'alert-vendor', 'checkout', {(call < 5 ? 503 : 200)}, 10,
                            {(minute < 5 && call >= 5 && call < 9 ? "true" : "false")}, {(call < 5 ? "true" : "false")})
                    """).ExecuteNonQueryAsync();

        await Watch.Check(CancellationToken.None);
        var alert = (await AlertsOf(AlertKinds.VendorErrors, "alert-vendor", 1, "open")).Single();
        alert.GetProperty("details").GetString().Should().Contain("25 of 50 calls failed");
        (await Alerts($"?kind={AlertKinds.VendorRateLimited}")).Should().NotContain(a => a.GetProperty("subject").GetString() == "alert-vendor",
            "429s were above the threshold in four of the five minutes only");

        factory.Clock.Advance(TimeSpan.FromMinutes(3)); // two of the failing minutes left the window: not five minutes any more
        await Watch.Check(CancellationToken.None);
        await AlertsOf(AlertKinds.VendorErrors, "alert-vendor", 1, "closed");
    }

    [Test]
    public async Task an_alert_another_feature_raises_through_the_service_opens_once_and_the_watch_leaves_it_to_that_feature()
    {
        var alerts = factory.Services.GetRequiredService<IAlerts>();
        (await alerts.Raise(AlertKinds.AuditDrift, "ledger", "3 wallets differ")).Should().BeTrue();
        (await alerts.Raise(AlertKinds.AuditDrift, "ledger", "3 wallets differ")).Should().BeFalse("it is open already");
        await AlertsOf(AlertKinds.AuditDrift, "ledger", 1, "open");
        await Watch.Check(CancellationToken.None);
        await Task.Delay(300);
        await AlertsOf(AlertKinds.AuditDrift, "ledger", 1, "open");
        (await alerts.Resolve(AlertKinds.AuditDrift, "ledger", "clean")).Should().BeTrue();
        (await alerts.Resolve(AlertKinds.AuditDrift, "ledger", "clean")).Should().BeFalse();
        await AlertsOf(AlertKinds.AuditDrift, "ledger", 1, "closed");
        (await alerts.Raise(AlertKinds.AuditDrift, "ledger", "drift again")).Should().BeTrue("a cause back after it was gone is a new alert");
        var both = await AlertsOf(AlertKinds.AuditDrift, "ledger", 2, "open");
        both.Select(a => a.GetProperty("id").GetString()).Should().OnlyHaveUniqueItems();
    }

    [Test]
    public async Task an_operator_acknowledges_an_open_alert_pages_through_the_list_and_cannot_acknowledge_a_closed_one()
    {
        var alerts = factory.Services.GetRequiredService<IAlerts>();
        await alerts.Raise(AlertKinds.AuditDrift, "stock-ack-1", "drift");
        await alerts.Raise(AlertKinds.AuditDrift, "stock-ack-2", "drift");
        var first = (await AlertsOf(AlertKinds.AuditDrift, "stock-ack-1", 1, "open")).Single();
        await AlertsOf(AlertKinds.AuditDrift, "stock-ack-2", 1, "open");
        var id = first.GetProperty("id").GetString()!;

        var acknowledged = await admin.PostAsync($"/admin/alerts/{id}/acknowledge", null);
        acknowledged.StatusCode.Should().Be(HttpStatusCode.OK, await acknowledged.Content.ReadAsStringAsync());
        var body = await acknowledged.Content.ReadFromJsonAsync<JsonElement>();
        body.GetProperty("status").GetString().Should().Be("acknowledged");
        body.GetProperty("acknowledgedBy").GetString().Should().StartWith("admin:");
        (await admin.PostAsync($"/admin/alerts/{id}/acknowledge", null)).StatusCode.Should().Be(HttpStatusCode.OK, "a repeat changes nothing");
        await AlertsOf(AlertKinds.AuditDrift, "stock-ack-1", 1, "acknowledged");
        (await Alerts("?status=acknowledged")).Select(a => a.GetProperty("id").GetString()).Should().Contain(id);
        (await Alerts("?status=open")).Select(a => a.GetProperty("id").GetString()).Should().NotContain(id);

        var page1 = await admin.GetFromJsonAsync<JsonElement>($"/admin/alerts?kind={AlertKinds.AuditDrift}&limit=1");
        page1.GetProperty("items").GetArrayLength().Should().Be(1);
        var next = page1.GetProperty("next").GetString()!;
        var page2 = await admin.GetFromJsonAsync<JsonElement>($"/admin/alerts?kind={AlertKinds.AuditDrift}&limit=1&after={next}");
        page2.GetProperty("items")[0].GetProperty("id").GetString().Should().NotBe(page1.GetProperty("items")[0].GetProperty("id").GetString());

        await alerts.Resolve(AlertKinds.AuditDrift, "stock-ack-1", "clean");
        await AlertsOf(AlertKinds.AuditDrift, "stock-ack-1", 1, "closed");
        var closed = await admin.PostAsync($"/admin/alerts/{id}/acknowledge", null);
        closed.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await closed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString().Should().Be("alert_closed");
        var missing = await admin.PostAsync("/admin/alerts/al_nope/acknowledge", null);
        missing.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await missing.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString().Should().Be("alert_not_found");

        using var analyst = await factory.AdminClient("analyst");
        (await analyst.GetAsync("/admin/alerts")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await analyst.PostAsync($"/admin/alerts/{id}/acknowledge", null)).StatusCode.Should().Be(HttpStatusCode.Forbidden);
    }

    [TestCase("status=bogus", "status")]
    [TestCase("kind=disk_full", "kind")]
    [TestCase("limit=0", "limit")]
    [TestCase("limit=501", "limit")]
    [TestCase("after=!!", "after")]
    public async Task a_bad_alert_query_is_400_naming_the_parameter(string query, string parameter)
    {
        var response = await admin.GetAsync($"/admin/alerts?{query}");
        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("parameter").GetString().Should().Be(parameter);
    }

    [Test]
    public async Task an_endpoint_failing_five_days_is_disabled_with_alerts_to_the_admin_endpoint_and_after_enabling_it_recover_delivers_what_failed()
    {
        await using var adminReceiver = await WebhookReceiver.Start();
        var created = await admin.PostAsJsonAsync("/admin/webhook-endpoints", new { url = adminReceiver.Url, description = "ops pager" });
        created.StatusCode.Should().Be(HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        var adminSecret = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("secret").GetString()!;
        var wrongType = await admin.PostAsJsonAsync("/admin/webhook-endpoints", new { url = adminReceiver.Url, eventTypes = new[] { "order.completed" } });
        wrongType.StatusCode.Should().Be(HttpStatusCode.BadRequest, "admin endpoints receive alert messages only");

        await using var receiver = await WebhookReceiver.Start();
        receiver.Answer = (_, _) => (503, null, TimeSpan.Zero);
        using var partner = await Partner("alert-dead", 0);
        var (endpointId, _) = await Endpoint(partner, receiver.Url, ["wallet.deposited"]);
        var start = factory.Clock.UtcNow;

        async Task DepositFailingForGood(string key, int attemptsBefore)
        {
            await Deposit("alert-dead", 1_00, key);
            for (var attempt = 1; attempt <= 3; attempt++)
            {
                await Until(() => receiver.Received.Count == attemptsBefore + attempt, $"{key}: attempt {attempt}");
                // The next attempt is scheduled from the clock when the answer is handled: move the clock only after that.
                var recorded = attempt;
                await Eventually.True(async () => (await Messages(partner, endpointId)).Any(m => m.GetProperty("attempts").GetInt32() == recorded
                        && m.GetProperty("payload").GetProperty("data").GetProperty("reference").GetString() == key),
                    TimeSpan.FromSeconds(20), $"{key}: attempt {attempt} recorded");
                factory.Clock.Advance(TimeSpan.FromSeconds(61));
            }
            await Eventually.True(async () => (await Messages(partner, endpointId, "?status=failed")).Any(m => m.GetProperty("attempts").GetInt32() == 3
                    && m.GetProperty("payload").GetProperty("data").GetProperty("reference").GetString() == key),
                TimeSpan.FromSeconds(20), $"{key} failed for good");
        }

        await DepositFailingForGood("dead-1", 0);
        await Watch.Check(CancellationToken.None);
        await AlertsOf(AlertKinds.WebhookFailed, endpointId, 1, "open");

        factory.Clock.Advance(TimeSpan.FromDays(2));
        await DepositFailingForGood("dead-2", 3);
        await Watch.Check(CancellationToken.None);
        (await partner.Http.GetFromJsonAsync<JsonElement>($"v1/webhook-endpoints/{endpointId}")).GetProperty("status").GetString()
            .Should().Be("enabled", "it has been failing for two days only");

        factory.Clock.Advance(TimeSpan.FromDays(3));
        await Watch.Check(CancellationToken.None);
        var disabled = await partner.Http.GetFromJsonAsync<JsonElement>($"v1/webhook-endpoints/{endpointId}");
        disabled.GetProperty("status").GetString().Should().Be("disabled");
        disabled.GetProperty("disabledReason").GetString().Should().Be("failing");
        await AlertsOf(AlertKinds.WebhookEndpointDisabled, endpointId, 1, "open");
        await AlertsOf(AlertKinds.WebhookFailed, endpointId, 1, "open");

        receiver.Answer = (_, _) => (200, null, TimeSpan.Zero);
        (await partner.Http.PatchAsJsonAsync($"v1/webhook-endpoints/{endpointId}", new { enabled = true })).StatusCode.Should().Be(HttpStatusCode.OK);
        var recovered = await partner.Http.PostAsJsonAsync($"v1/webhook-endpoints/{endpointId}/recover", new { since = start.AddMinutes(-1) });
        (await recovered.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("messages").GetInt32().Should().Be(2);
        await Until(() => receiver.Received.Count(r => Json(r).GetProperty("type").GetString() == "wallet.deposited") == 8, "both failed messages delivered");
        await Eventually.True(async () => (await Messages(partner, endpointId, "?status=delivered")).Length == 2, TimeSpan.FromSeconds(20), "logged delivered");
        (await partner.Http.GetFromJsonAsync<JsonElement>($"v1/webhook-endpoints/{endpointId}")).GetProperty("status").GetString().Should().Be("enabled");

        await Watch.Check(CancellationToken.None);
        await AlertsOf(AlertKinds.WebhookEndpointDisabled, endpointId, 1, "closed");
        await AlertsOf(AlertKinds.WebhookFailed, endpointId, 1, "closed");

        // The admins' endpoint got each cause's opening and closing, in that order, signed with its own secret.
        await Until(() => adminReceiver.Received.Count(r => Json(r).GetProperty("data").GetProperty("subject").GetString() == endpointId) == 4,
            "two alerts opened and closed reach the admin endpoint");
        var messages = adminReceiver.Received.Where(r => Json(r).GetProperty("data").GetProperty("subject").GetString() == endpointId).ToArray();
        messages.Should().OnlyContain(r => SignedBy(r, adminSecret));
        foreach (var kind in new[] { AlertKinds.WebhookFailed, AlertKinds.WebhookEndpointDisabled })
            messages.Where(r => Json(r).GetProperty("data").GetProperty("kind").GetString() == kind)
                .Select(r => Json(r).GetProperty("type").GetString()).Should().Equal("alert.opened", "alert.closed");
    }

    [Test]
    public async Task admins_manage_a_partners_endpoints_under_the_partner_and_their_own_alert_endpoints_apart()
    {
        using var partner = await Partner("alert-admin-mirror", 0);
        var created = await admin.PostAsJsonAsync("/admin/partners/alert-admin-mirror/webhook-endpoints", new { url = "https://hooks.example.com/a" });
        created.StatusCode.Should().Be(HttpStatusCode.Created);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        (await partner.Http.GetFromJsonAsync<JsonElement>("v1/webhook-endpoints")).GetProperty("items")[0].GetProperty("id").GetString().Should().Be(id);
        (await admin.GetFromJsonAsync<JsonElement>("/admin/webhook-endpoints")).GetProperty("items").EnumerateArray()
            .Should().NotContain(e => e.GetProperty("id").GetString() == id, "a partner's endpoint is not an admin alert endpoint");
        (await admin.GetAsync($"/admin/webhook-endpoints/{id}")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await admin.GetAsync("/admin/partners/no-such-partner/webhook-endpoints")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        using var support = await factory.AdminClient("support");
        (await support.GetAsync("/admin/webhook-endpoints")).StatusCode.Should().Be(HttpStatusCode.Forbidden, "alert endpoints are the admin role's");
        (await support.GetAsync("/admin/partners/alert-admin-mirror/webhook-endpoints")).StatusCode.Should().Be(HttpStatusCode.OK);
    }
}
