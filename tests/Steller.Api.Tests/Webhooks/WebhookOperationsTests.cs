using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FluentAssertions;
using NUnit.Framework;
using Steller.Testing;

namespace Steller.Api.Tests.Webhooks;

/// <summary>Webhooks as operators run them: a receiver slower than the timeout, the admin's low-balance threshold, /metrics.</summary>
public sealed class WebhookOperationsTests() : WebhookFixture("webhook-ops")
{
    [Test]
    public async Task one_endpoint_answering_after_20_s_does_not_delay_another_partners_deliveries()
    {
        await using var slow = await WebhookReceiver.Start();
        slow.Answer = (_, _) => (200, null, TimeSpan.FromSeconds(20));   // past the 15 s timeout: every attempt times out
        await using var fast = await WebhookReceiver.Start();
        using var a = await Partner("ops-slow", 0);
        using var b = await Partner("ops-fast", 0);
        var (slowEndpoint, _) = await Endpoint(a, slow.Url);
        await Endpoint(b, fast.Url);
        for (var i = 0; i < 20; i++) await Deposit("ops-slow", 1_00, $"ops-slow-{i}");
        await Until(() => slow.Received.Count >= 4, "the slow endpoint's slots are taken");

        // For the next 20 s the slow endpoint holds its four slots; the other partner's deposits arrive at once all the same.
        var started = DateTimeOffset.UtcNow;
        for (var i = 0; i < 5; i++)
        {
            var sent = DateTimeOffset.UtcNow;
            await Deposit("ops-fast", 1_00, $"ops-fast-{i}");
            await Until(() => fast.Received.Count == i + 1, $"deposit {i} of the other partner arrives");
            (fast.Received.Last().At - sent).Should().BeLessThan(TimeSpan.FromSeconds(2), "it does not wait for the slow endpoint");
            await Task.Delay(TimeSpan.FromSeconds(3));
        }
        (DateTimeOffset.UtcNow - started).Should().BeGreaterThan(TimeSpan.FromSeconds(15), "the deliveries spanned the slow answers");
        await Eventually.True(async () => (await Messages(a, slowEndpoint)).Any(m => m.GetProperty("attemptLog").EnumerateArray()
                .Any(x => x.GetProperty("error").GetString() is { } e && e.StartsWith("timeout"))),
            TimeSpan.FromSeconds(30), "the slow endpoint's attempts are logged as timeouts");
    }

    [Test]
    public async Task an_admin_sets_a_partners_low_balance_threshold_which_both_wallet_views_show_and_its_crossing_is_delivered()
    {
        await using var receiver = await WebhookReceiver.Start();
        using var partner = await Partner("ops-low", 100_00);
        await Endpoint(partner, receiver.Url, ["wallet.low_balance"]);

        var set = await admin.PutAsJsonAsync("/admin/partners/ops-low/wallets/EUR/low-balance-threshold", new { threshold = 80_00 });
        set.StatusCode.Should().Be(HttpStatusCode.Created, await set.Content.ReadAsStringAsync());
        (await set.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("lowBalanceThreshold").GetInt64().Should().Be(80_00);
        (await admin.GetFromJsonAsync<JsonElement>("/admin/partners/ops-low/wallets/EUR")).GetProperty("lowBalanceThreshold").GetInt64()
            .Should().Be(80_00);
        (await partner.Http.GetFromJsonAsync<JsonElement>("v1/wallets/EUR")).GetProperty("lowBalanceThreshold").GetInt64().Should().Be(80_00);
        using var analyst = await factory.AdminClient("analyst");
        (await analyst.PutAsJsonAsync("/admin/partners/ops-low/wallets/EUR/low-balance-threshold", new { threshold = 1 }))
            .StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await admin.PutAsJsonAsync("/admin/partners/ops-low/wallets/EUR/low-balance-threshold", new { threshold = -1 }))
            .StatusCode.Should().BeOneOf(HttpStatusCode.BadRequest, HttpStatusCode.UnprocessableEntity);

        var withdrawal = new HttpRequestMessage(HttpMethod.Post, "/admin/partners/ops-low/wallets/EUR/withdrawals")
        {
            Content = JsonContent.Create(new { amount = 30_00, reference = "ops-low-w" }),
        };
        withdrawal.Headers.Add("Idempotency-Key", "ops-low-w");
        (await admin.SendAsync(withdrawal)).EnsureSuccessStatusCode();
        await Until(() => receiver.Received.Count == 1, "the crossing below the admin's threshold is delivered");
        var data = Json(receiver.Received.Single()).GetProperty("data");
        data.GetProperty("threshold").GetInt64().Should().Be(80_00);
        data.GetProperty("available").GetInt64().Should().Be(70_00);
    }

    [Test]
    public async Task metrics_count_deliveries_by_outcome_and_show_attempt_latency_delivery_lag_and_the_queue()
    {
        await using var receiver = await WebhookReceiver.Start();
        receiver.Answer = (_, n) => (n == 0 ? 500 : 204, null, TimeSpan.Zero);
        using var partner = await Partner("ops-metrics", 0);
        var (endpointId, _) = await Endpoint(partner, receiver.Url);
        var before = await admin.GetStringAsync("/metrics");
        await Deposit("ops-metrics", 1_00, "ops-metrics-1");
        await Until(() => receiver.Received.Count == 1, "the first attempt fails");
        await Recorded(partner, endpointId, 1);
        factory.Clock.Advance(TimeSpan.FromSeconds(5));
        await Until(() => receiver.Received.Count == 2, "the retry succeeds");

        string metrics = "";
        await Eventually.True(async () =>
        {
            metrics = await admin.GetStringAsync("/metrics");
            return Value(metrics, "steller_webhook_deliveries_total{outcome=\"delivered\"}") >= Value(before, "steller_webhook_deliveries_total{outcome=\"delivered\"}") + 1;
        }, TimeSpan.FromSeconds(10), "the delivery is counted");
        Value(metrics, "steller_webhook_deliveries_total{outcome=\"retrying\"}").Should().BeGreaterThanOrEqualTo(1);
        metrics.Should().Contain("steller_webhook_attempt_seconds_bucket{outcome=\"delivered\"");
        metrics.Should().Contain("steller_webhook_attempt_seconds_count{outcome=\"failed\"}");
        metrics.Should().Contain("steller_webhook_delivery_lag_seconds_count");
        metrics.Should().Contain("steller_webhook_due_messages ").And.Contain("steller_webhook_pending_messages ").And.Contain("steller_webhook_queue_lag_seconds ");
    }

    private static double Value(string metrics, string series) =>
        metrics.Split('\n').Where(l => l.StartsWith(series + " ", StringComparison.Ordinal))
            .Select(l => double.Parse(l[(series.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture)).FirstOrDefault();
}
