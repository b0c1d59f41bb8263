using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FluentAssertions;
using Microsoft.Extensions.DependencyInjection;
using NUnit.Framework;
using Steller.Client;
using Steller.Testing;

namespace Steller.Api.Tests.Webhooks;

/// <summary>
/// Webhooks end to end over real HTTP: partner-managed endpoints, messages derived from the event log, Standard Webhooks
/// signatures, the retry schedule on the API's controllable clock, replay, and isolation between partners.
/// </summary>
public sealed class WebhookDeliveryTests() : WebhookFixture("webhooks")
{
    [Test]
    public async Task a_partner_manages_its_endpoints_and_sees_the_secret_only_once_and_never_in_plaintext_at_rest()
    {
        using var partner = await Partner("wh-manage", 0);
        var created = await partner.Http.PostAsJsonAsync("v1/webhook-endpoints",
            new { url = "https://hooks.example.com/steller", eventTypes = new[] { "order.completed" }, description = "ops" });
        created.StatusCode.Should().Be(HttpStatusCode.Created);
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        var id = body.GetProperty("id").GetString()!;
        var secret = body.GetProperty("secret").GetString()!;
        secret.Should().StartWith("whsec_");
        Convert.FromBase64String(secret["whsec_".Length..]).Should().HaveCountGreaterThanOrEqualTo(24);
        created.Headers.Location!.ToString().Should().EndWith($"/v1/webhook-endpoints/{id}");

        var one = await partner.Http.GetFromJsonAsync<JsonElement>($"v1/webhook-endpoints/{id}");
        one.GetProperty("status").GetString().Should().Be("enabled");
        one.TryGetProperty("secret", out _).Should().BeFalse("the secret is shown once");

        var patched = await partner.Http.PatchAsJsonAsync($"v1/webhook-endpoints/{id}", new { enabled = false, eventTypes = new[] { "wallet.deposited" } });
        patched.StatusCode.Should().Be(HttpStatusCode.OK);
        var after = await patched.Content.ReadFromJsonAsync<JsonElement>();
        after.GetProperty("status").GetString().Should().Be("disabled");
        after.GetProperty("eventTypes")[0].GetString().Should().Be("wallet.deposited");
        after.GetProperty("url").GetString().Should().Be("https://hooks.example.com/steller", "fields left out stay");

        var list = await partner.Http.GetFromJsonAsync<JsonElement>("v1/webhook-endpoints");
        list.GetProperty("items").GetArrayLength().Should().Be(1);

        var stored = await db.Scalar<long>($"select count(*) from ops.webhook_endpoints where position('{secret}' in encode(secret, 'escape')) > 0 "
                                           + $"or position('{secret["whsec_".Length..]}' in encode(secret, 'escape')) > 0");
        stored.Should().Be(0, "the secret is sealed by the key ring");
        (await db.Scalar<long>($"select count(*) from ops.webhook_endpoints where id = '{id}'")).Should().Be(1);
        var secretBase64 = secret["whsec_".Length..];
        factory.Logs.Lines.Should().NotContain(e => e.Contains(secretBase64), "no secret in logs");

        (await partner.Http.DeleteAsync($"v1/webhook-endpoints/{id}")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await partner.Http.GetAsync($"v1/webhook-endpoints/{id}")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Test]
    public async Task a_partner_has_at_most_ten_endpoints_and_a_bad_url_or_type_is_refused_naming_the_field()
    {
        using var partner = await Partner("wh-limit", 0);
        for (var i = 0; i < 10; i++) await Endpoint(partner, $"https://hooks.example.com/{i}");
        var eleventh = await partner.Http.PostAsJsonAsync("v1/webhook-endpoints", new { url = "https://hooks.example.com/10" });
        eleventh.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await eleventh.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString().Should().Be("webhook_endpoint_limit_reached");

        using var other = await Partner("wh-badinput", 0);
        var badUrl = await other.Http.PostAsJsonAsync("v1/webhook-endpoints", new { url = "ftp://hooks.example.com/x" });
        badUrl.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await badUrl.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("url", out _).Should().BeTrue();
        var badType = await other.Http.PostAsJsonAsync("v1/webhook-endpoints", new { url = "https://hooks.example.com/x", eventTypes = new[] { "order.nope" } });
        badType.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await badType.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("eventTypes", out _).Should().BeTrue();
    }

    [Test]
    public async Task another_partner_gets_404_for_an_endpoint_and_its_messages_and_changes_nothing()
    {
        await using var receiver = await WebhookReceiver.Start();
        using var a = await Partner("wh-iso-a", 0);
        using var b = await Partner("wh-iso-b", 0);
        var (id, _) = await Endpoint(a, receiver.Url);
        var message = (await (await a.Http.PostAsync($"v1/webhook-endpoints/{id}/test", null)).Content.ReadFromJsonAsync<JsonElement>())
            .GetProperty("messageId").GetString()!;
        await Until(() => receiver.Received.Count == 1, "the test message reaches A's receiver");

        foreach (var (method, path, body) in new (HttpMethod, string, object?)[]
                 {
                     (HttpMethod.Get, $"v1/webhook-endpoints/{id}", null),
                     (HttpMethod.Patch, $"v1/webhook-endpoints/{id}", new { enabled = false }),
                     (HttpMethod.Delete, $"v1/webhook-endpoints/{id}", null),
                     (HttpMethod.Get, $"v1/webhook-endpoints/{id}/messages", null),
                     (HttpMethod.Post, $"v1/webhook-endpoints/{id}/messages/{message}/resend", null),
                     (HttpMethod.Post, $"v1/webhook-endpoints/{id}/rotate-secret", null),
                     (HttpMethod.Post, $"v1/webhook-endpoints/{id}/test", null),
                     (HttpMethod.Post, $"v1/webhook-endpoints/{id}/recover", new { since = DateTimeOffset.UtcNow.AddDays(-1) }),
                     (HttpMethod.Post, $"v1/webhook-endpoints/{id}/replay", new { since = DateTimeOffset.UtcNow.AddDays(-1) }),
                 })
        {
            var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
            var response = await b.Http.SendAsync(request);
            response.StatusCode.Should().Be(HttpStatusCode.NotFound, $"{method} {path} by another partner");
            (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString().Should().Be("webhook_endpoint_not_found");
        }
        (await b.Http.GetFromJsonAsync<JsonElement>("v1/webhook-endpoints")).GetProperty("items").GetArrayLength().Should().Be(0);
        (await a.Http.GetFromJsonAsync<JsonElement>($"v1/webhook-endpoints/{id}")).GetProperty("status").GetString().Should().Be("enabled");
        await Task.Delay(300);
        receiver.Received.Should().HaveCount(1, "nothing B sent reached A's receiver");
    }

    [Test]
    public async Task a_deposit_is_delivered_once_signed_with_the_standard_webhooks_headers_and_logged_as_delivered()
    {
        await using var receiver = await WebhookReceiver.Start();
        using var partner = await Partner("wh-deposit", 0);
        var (id, secret) = await Endpoint(partner, receiver.Url, ["wallet.deposited"]);

        await Deposit("wh-deposit", 12_34, "dep-1");

        await Until(() => receiver.Received.Count == 1, "the deposit's message is delivered");
        var w = receiver.Received.Single();
        SignedBy(w, secret).Should().BeTrue();
        w.Id.Should().StartWith("msg_");
        long.Parse(w.Timestamp).Should().BeCloseTo(factory.Clock.UtcNow.ToUnixTimeSeconds(), 30);
        var payload = Json(w);
        payload.GetProperty("type").GetString().Should().Be("wallet.deposited");
        payload.GetProperty("data").GetProperty("amount").GetInt64().Should().Be(12_34);
        payload.GetProperty("data").GetProperty("currency").GetString().Should().Be("EUR");
        await Eventually.True(async () => await Messages(partner, id) is [var m] && m.GetProperty("status").GetString() == "delivered",
            TimeSpan.FromSeconds(10), "the log shows the message delivered");
        var logged = (await Messages(partner, id)).Single();
        logged.GetProperty("id").GetString().Should().Be(w.Id);
        logged.GetProperty("attemptLog")[0].GetProperty("httpStatus").GetInt32().Should().Be(204);
        await Task.Delay(300);
        receiver.Received.Should().HaveCount(1, "a delivered message is not sent again");
    }

    [Test]
    public async Task a_receiver_failing_three_times_gets_the_same_webhook_id_at_the_scheduled_times_until_it_is_delivered()
    {
        await using var receiver = await WebhookReceiver.Start();
        receiver.Answer = (_, n) => (n < 3 ? 500 : 200, null, TimeSpan.Zero);
        using var partner = await Partner("wh-retry", 0);
        var (id, secret) = await Endpoint(partner, receiver.Url);

        await Deposit("wh-retry", 5_00, "dep-retry");
        await Until(() => receiver.Received.Count == 1, "the first attempt goes out at once");
        await Recorded(partner, id, 1);
        await Task.Delay(500);
        receiver.Received.Should().HaveCount(1, "the second attempt waits 5 s");

        factory.Clock.Advance(TimeSpan.FromSeconds(5));
        await Until(() => receiver.Received.Count == 2, "the second attempt 5 s later");
        await Recorded(partner, id, 2);
        factory.Clock.Advance(TimeSpan.FromMinutes(4));
        await Task.Delay(500);
        receiver.Received.Should().HaveCount(2, "the third attempt waits 5 min");
        factory.Clock.Advance(TimeSpan.FromMinutes(1));
        await Until(() => receiver.Received.Count == 3, "the third attempt 5 min later");
        await Recorded(partner, id, 3);
        factory.Clock.Advance(TimeSpan.FromMinutes(30));
        await Until(() => receiver.Received.Count == 4, "the fourth attempt 30 min later");

        receiver.Received.Select(r => r.Id).Distinct().Should().ContainSingle("every attempt carries the same webhook-id");
        receiver.Received.Should().OnlyContain(r => SignedBy(r, secret));
        await Eventually.True(async () => (await Messages(partner, id)).Single().GetProperty("status").GetString() == "delivered",
            TimeSpan.FromSeconds(10), "delivered after the fourth attempt");
        var message = (await Messages(partner, id)).Single();
        message.GetProperty("attempts").GetInt32().Should().Be(4);
        var attempts = message.GetProperty("attemptLog").EnumerateArray().ToArray();
        attempts.Select(a => a.GetProperty("httpStatus").GetInt32()).Should().Equal(500, 500, 500, 200);
        attempts.Should().OnlyContain(a => a.GetProperty("response").GetString()!.StartsWith("answer "));
        var times = attempts.Select(a => a.GetProperty("at").GetDateTimeOffset()).ToArray();
        (times[1] - times[0]).Should().BeCloseTo(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(2));
        (times[2] - times[1]).Should().BeCloseTo(TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(2));
        (times[3] - times[2]).Should().BeCloseTo(TimeSpan.FromMinutes(30), TimeSpan.FromSeconds(2));
    }

    [Test]
    public async Task a_message_failing_every_attempt_ends_failed_after_the_schedule_and_recover_delivers_it_again()
    {
        await using var receiver = await WebhookReceiver.Start();
        receiver.Answer = (_, _) => (503, null, TimeSpan.Zero);
        using var partner = await Partner("wh-failed", 0);
        var (id, _) = await Endpoint(partner, receiver.Url);
        var start = factory.Clock.UtcNow;
        await Deposit("wh-failed", 1_00, "dep-failed");

        for (var attempt = 1; attempt <= 8; attempt++)
        {
            await Until(() => receiver.Received.Count == attempt, $"attempt {attempt}");
            await Recorded(partner, id, attempt);
            factory.Clock.Advance(TimeSpan.FromHours(10) + TimeSpan.FromSeconds(1));
        }
        await Eventually.True(async () => (await Messages(partner, id, "?status=failed")).Length == 1, TimeSpan.FromSeconds(10),
            "failed after the eighth attempt");
        await Task.Delay(500);
        receiver.Received.Should().HaveCount(8, "no ninth attempt");

        receiver.Answer = (_, _) => (200, null, TimeSpan.Zero);
        var recovered = await partner.Http.PostAsJsonAsync($"v1/webhook-endpoints/{id}/recover", new { since = start.AddMinutes(-1) });
        recovered.StatusCode.Should().Be(HttpStatusCode.Accepted);
        (await recovered.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("messages").GetInt32().Should().Be(1);
        await Until(() => receiver.Received.Count == 9, "recover sends it again");
        receiver.Received.Select(r => r.Id).Distinct().Should().ContainSingle();
        await Eventually.True(async () => (await Messages(partner, id, "?status=delivered")).Length == 1, TimeSpan.FromSeconds(10), "then delivered");
    }

    [Test]
    public async Task a_redirect_is_not_followed_and_counts_as_a_failed_attempt()
    {
        await using var receiver = await WebhookReceiver.Start();
        receiver.Answer = (r, _) => r.Path == "/hook" ? (302, receiver.BaseUrl + "/elsewhere", TimeSpan.Zero) : (200, null, TimeSpan.Zero);
        using var partner = await Partner("wh-redirect", 0);
        var (id, _) = await Endpoint(partner, receiver.Url);
        await Deposit("wh-redirect", 1_00, "dep-redirect");

        await Eventually.True(async () => await Messages(partner, id) is [var m] && m.GetProperty("attempts").GetInt32() == 1,
            TimeSpan.FromSeconds(20), "the attempt is recorded");
        var message = (await Messages(partner, id)).Single();
        message.GetProperty("status").GetString().Should().Be("pending", "a 3xx is not a success");
        message.GetProperty("attemptLog")[0].GetProperty("httpStatus").GetInt32().Should().Be(302);
        message.GetProperty("attemptLog")[0].GetProperty("error").GetString().Should().Be("redirect not followed");
        receiver.Received.Should().OnlyContain(r => r.Path == "/hook", "the Location was never requested");
    }

    [Test]
    public async Task replay_redelivers_exactly_the_messages_of_the_window_with_the_same_webhook_ids()
    {
        await using var receiver = await WebhookReceiver.Start();
        using var partner = await Partner("wh-replay", 0);
        var (id, _) = await Endpoint(partner, receiver.Url, ["wallet.deposited"]);
        var times = new List<DateTimeOffset>();
        for (var i = 1; i <= 3; i++)
        {
            times.Add(factory.Clock.UtcNow);
            await Deposit("wh-replay", i * 1_00, $"dep-replay-{i}");
            await Until(() => receiver.Received.Count == i, $"deposit {i} delivered");
            factory.Clock.Advance(TimeSpan.FromHours(1));
        }
        var first = receiver.Received.ToArray();
        first.Select(r => Json(r).GetProperty("data").GetProperty("amount").GetInt64()).Should().Equal(1_00, 2_00, 3_00);

        var replay = await partner.Http.PostAsJsonAsync($"v1/webhook-endpoints/{id}/replay",
            new { since = times[1].AddMinutes(-1), until = times[2].AddMinutes(-1) });
        replay.StatusCode.Should().Be(HttpStatusCode.Accepted, await replay.Content.ReadAsStringAsync());
        (await replay.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("messages").GetInt32().Should().Be(1);

        await Until(() => receiver.Received.Count == 4, "the window's message is delivered again");
        await Task.Delay(500);
        receiver.Received.Should().HaveCount(4, "exactly the window's messages");
        var again = receiver.Received.Last();
        again.Id.Should().Be(first[1].Id, "a replay carries the first delivery's webhook-id");
        again.Body.Should().Be(first[1].Body, "and its body");
    }

    [Test]
    public async Task a_slow_endpoint_does_not_delay_another_partners_deliveries()
    {
        // The slow receiver answers after 5 s (within the 15 s timeout, instead of the issue's 20 s, to keep the test short): its
        // endpoint's four slots stay full, and its 140 pending messages are more than one dispatch batch would hold if it were
        // not bounded per endpoint.
        await using var slow = await WebhookReceiver.Start();
        slow.Answer = (_, _) => (200, null, TimeSpan.FromSeconds(5));
        await using var fast = await WebhookReceiver.Start();
        using var a = await Partner("wh-slow", 0);
        using var b = await Partner("wh-fast", 0);
        await Endpoint(a, slow.Url);
        await Endpoint(b, fast.Url);
        for (var i = 0; i < 140; i++) await Deposit("wh-slow", 1_00, $"dep-slow-{i}");
        await Until(() => slow.Received.Count >= 4, "the slow endpoint is busy");

        var sent = DateTimeOffset.UtcNow;
        await Deposit("wh-fast", 1_00, "dep-fast");
        await Until(() => fast.Received.Count == 1, "the other partner's message arrives");
        (fast.Received.Single().At - sent).Should().BeLessThan(TimeSpan.FromSeconds(2), "it does not wait for the slow endpoint");
        slow.Received.Count.Should().BeLessThan(140, "the slow endpoint's messages were still queued behind its own slots");
    }

    [Test]
    public async Task a_completed_order_is_delivered_with_its_view_and_revision_but_no_codes_or_pins()
    {
        await using var receiver = await WebhookReceiver.Start();
        using var partner = await Partner("wh-order", 100_00);
        var (_, secret) = await Endpoint(partner, receiver.Url, ["order.completed", "order.partially_completed", "order.failed"]);
        var placed = await partner.PlaceOrder("wh-order-1", [new NewOrderLine(Amazon25, 1, 25_00)]);
        var order = await Terminal(partner, placed.OrderId);
        order.Status.Should().Be("Completed");

        await Until(() => receiver.Received.Count == 1, "the order's terminal message is delivered", 30);
        var w = receiver.Received.Single();
        SignedBy(w, secret).Should().BeTrue();
        var payload = Json(w);
        payload.GetProperty("type").GetString().Should().Be("order.completed");
        var data = payload.GetProperty("data");
        data.GetProperty("orderId").GetString().Should().Be(placed.OrderId);
        data.GetProperty("status").GetString().Should().Be("Completed");
        data.GetProperty("revision").GetInt64().Should().BeGreaterThan(0);
        var card = data.GetProperty("lines")[0].GetProperty("cards")[0];
        card.GetProperty("code").ValueKind.Should().Be(JsonValueKind.Null);
        card.GetProperty("pin").ValueKind.Should().Be(JsonValueKind.Null);
        order.Lines[0].Cards![0].Code.Should().NotBeNullOrEmpty();
        w.Body.Should().NotContain(order.Lines[0].Cards![0].Code!, "codes are fetched over the signed API only");
    }
    [Test]
    public async Task a_later_message_of_an_order_waits_until_the_earlier_one_is_delivered()
    {
        await using var receiver = await WebhookReceiver.Start();
        var completedAnswers = 0;
        receiver.Answer = (r, _) => Json(r).GetProperty("type").GetString() == "order.completed" && Interlocked.Increment(ref completedAnswers) <= 2
            ? (500, null, TimeSpan.Zero)
            : (200, null, TimeSpan.Zero);
        using var partner = await Partner("wh-ordering", 100_00);
        var (endpointId, _) = await Endpoint(partner, receiver.Url, ["order.completed", "order.refunded"]);
        var placed = await partner.PlaceOrder("wh-ordering-1", [new NewOrderLine(Amazon25, 1, 25_00)]);
        (await Terminal(partner, placed.OrderId)).Status.Should().Be("Completed");
        await Until(() => receiver.Received.Count == 1, "the completed message's first attempt fails", 30);

        var refund = await admin.PostAsJsonAsync($"/admin/orders/{placed.OrderId}/refunds", new { refundId = "rf-1", amount = 5_00, reason = "goodwill" });
        refund.StatusCode.Should().Be(HttpStatusCode.Created, await refund.Content.ReadAsStringAsync());
        await Task.Delay(1000);
        receiver.Received.Should().HaveCount(1, "the refund message waits behind the undelivered completed message");

        await Recorded(partner, endpointId, 1);
        factory.Clock.Advance(TimeSpan.FromSeconds(5));
        await Until(() => receiver.Received.Count == 2, "the completed message's second attempt");
        await Recorded(partner, endpointId, 2);
        await Task.Delay(500);
        receiver.Received.Should().HaveCount(2, "still waiting");
        factory.Clock.Advance(TimeSpan.FromMinutes(5));
        await Until(() => receiver.Received.Count == 4, "the completed message, then the refund");

        var received = receiver.Received.Select(Json).ToArray();
        received.Select(p => p.GetProperty("type").GetString()).Should().Equal("order.completed", "order.completed", "order.completed", "order.refunded");
        received[3].GetProperty("data").GetProperty("revision").GetInt64().Should()
            .BeGreaterThan(received[2].GetProperty("data").GetProperty("revision").GetInt64());
        received[3].GetProperty("data").GetProperty("refunded").GetInt64().Should().Be(5_00);
    }
    [Test]
    public async Task a_batch_the_follower_handles_again_after_a_crash_creates_no_second_message_and_no_second_delivery()
    {
        await using var receiver = await WebhookReceiver.Start();
        using var partner = await Partner("wh-repeat", 0);
        var (id, _) = await Endpoint(partner, receiver.Url);
        await Deposit("wh-repeat", 3_00, "dep-repeat");
        await Until(() => receiver.Received.Count == 1, "delivered once");

        // What a restart before the checkpoint moved does: the same events handed to the follower again.
        var log = factory.Services.GetRequiredService<Steller.Application.EventStore.IEventStore>();
        var everything = await log.ReadAll(Steller.Application.EventStore.LogPosition.Start, 100_000);
        await factory.Services.GetRequiredService<Steller.Projections.Webhooks.WebhookMessageFollower>().Handle(everything, CancellationToken.None);

        await Task.Delay(500);
        (await Messages(partner, id)).Should().ContainSingle().Which.GetProperty("status").GetString().Should().Be("delivered");
        receiver.Received.Should().HaveCount(1);
    }

    [Test]
    public async Task a_disabled_endpoint_gets_no_new_messages_and_replay_fills_the_gap_after_it_is_enabled_again()
    {
        await using var receiver = await WebhookReceiver.Start();
        using var partner = await Partner("wh-disabled", 0);
        var (id, secret) = await Endpoint(partner, receiver.Url);
        (await partner.Http.PatchAsJsonAsync($"v1/webhook-endpoints/{id}", new { enabled = false })).StatusCode.Should().Be(HttpStatusCode.OK);
        var since = factory.Clock.UtcNow;
        await Deposit("wh-disabled", 4_00, "dep-disabled");
        await Task.Delay(1000);
        receiver.Received.Should().BeEmpty();
        (await Messages(partner, id)).Should().BeEmpty();

        (await partner.Http.PatchAsJsonAsync($"v1/webhook-endpoints/{id}", new { enabled = true })).StatusCode.Should().Be(HttpStatusCode.OK);
        var replay = await partner.Http.PostAsJsonAsync($"v1/webhook-endpoints/{id}/replay", new { since });
        (await replay.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("messages").GetInt32().Should().Be(1);
        await Until(() => receiver.Received.Count == 1, "the missed deposit arrives");
        SignedBy(receiver.Received.Single(), secret).Should().BeTrue();
        Json(receiver.Received.Single()).GetProperty("data").GetProperty("amount").GetInt64().Should().Be(4_00);
    }
    [Test]
    public async Task a_low_balance_message_goes_out_once_per_crossing_of_the_partners_threshold()
    {
        await using var receiver = await WebhookReceiver.Start();
        using var partner = await Partner("wh-low", 100_00);
        var (id, _) = await Endpoint(partner, receiver.Url, ["wallet.low_balance"]);
        var set = await partner.Http.PutAsJsonAsync("v1/wallets/EUR/low-balance-threshold", new { threshold = 50_00 });
        set.StatusCode.Should().Be(HttpStatusCode.Created, await set.Content.ReadAsStringAsync());
        (await set.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("threshold").GetInt64().Should().Be(50_00);

        await Withdraw("wh-low", 30_00, "w-1");   // 70.00: above
        await Withdraw("wh-low", 25_00, "w-2");   // 45.00: crosses
        await Withdraw("wh-low", 10_00, "w-3");   // 35.00: still below, no second message
        await Until(() => receiver.Received.Count == 1, "the crossing is reported");
        await Task.Delay(800);
        receiver.Received.Should().HaveCount(1, "once per crossing, not per debit");
        var data = Json(receiver.Received.Single()).GetProperty("data");
        data.GetProperty("available").GetInt64().Should().Be(45_00);
        data.GetProperty("threshold").GetInt64().Should().Be(50_00);

        await Deposit("wh-low", 40_00, "dep-low-back");  // 75.00: above again
        await Withdraw("wh-low", 30_00, "w-4");          // 45.00: a new crossing
        await Until(() => receiver.Received.Count == 2, "a new crossing is reported again");
        Json(receiver.Received.Last()).GetProperty("type").GetString().Should().Be("wallet.low_balance");
        (await Messages(partner, id)).Should().HaveCount(2);
    }

    private async Task Withdraw(string partnerId, long amount, string key)
    {
        var withdrawal = new HttpRequestMessage(HttpMethod.Post, $"/admin/partners/{partnerId}/wallets/EUR/withdrawals")
        {
            Content = JsonContent.Create(new { amount, reference = key }),
        };
        withdrawal.Headers.Add("Idempotency-Key", key);
        (await admin.SendAsync(withdrawal)).EnsureSuccessStatusCode();
    }
}
