using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FluentAssertions;
using Microsoft.Extensions.DependencyInjection;
using NUnit.Framework;
using Steller.Application.Alerts;
using Steller.Domain.Alerts;

namespace Steller.Api.Tests.Webhooks;

/// <summary>
/// Deliveries verified by the npm package standardwebhooks (the Standard Webhooks reference library for JavaScript), before and
/// during a secret rotation, and the admins' alert messages; ignored when node or tests/tools/node_modules is missing, like the RFC 9421 interoperability test.
/// </summary>
public sealed class WebhookInteropTests() : WebhookFixture("webhookinterop")
{
    [Test]
    public async Task deliveries_verify_with_the_npm_standardwebhooks_library_also_during_a_secret_rotation()
    {
        NodeTools.Require("standardwebhooks");

        await using var receiver = await WebhookReceiver.Start();
        using var partner = await Partner("wh-node", 0);
        var (id, oldSecret) = await Endpoint(partner, receiver.Url);
        (await partner.Http.PostAsync($"v1/webhook-endpoints/{id}/test", null)).StatusCode.Should().Be(HttpStatusCode.Accepted);
        await Deposit("wh-node", 7_00, "dep-node-1");
        await Until(() => receiver.Received.Count == 2, "two deliveries before the rotation");

        var rotated = await partner.Http.PostAsync($"v1/webhook-endpoints/{id}/rotate-secret", null);
        rotated.StatusCode.Should().Be(HttpStatusCode.OK);
        var rotation = await rotated.Content.ReadFromJsonAsync<JsonElement>();
        var newSecret = rotation.GetProperty("secret").GetString()!;
        newSecret.Should().NotBe(oldSecret);
        rotation.GetProperty("previousSecretValidUntil").GetDateTimeOffset().Should()
            .BeCloseTo(factory.Clock.UtcNow.AddHours(24), TimeSpan.FromMinutes(1));
        await Deposit("wh-node", 8_00, "dep-node-2");
        await Until(() => receiver.Received.Count == 3, "a delivery during the rotation");

        var deliveries = receiver.Received.ToArray();
        var results = await Verify([oldSecret, newSecret], deliveries);
        // The test message and the deposit's message are delivered independently: either may arrive first.
        results.Take(2).Select(r => r.GetProperty("type").GetString()).Should().BeEquivalentTo(["webhook.test", "wallet.deposited"]);
        results.Take(2).Should().OnlyContain(r => r.GetProperty("verifiedBy").EnumerateArray().Select(x => x.GetInt32()).SequenceEqual(new[] { 0 }),
            "before the rotation: the old secret");
        results[2].GetProperty("verifiedBy").EnumerateArray().Select(x => x.GetInt32()).Should().Equal([0, 1],
            "during the rotation both secrets verify (two space-separated v1 signatures)");
        deliveries[2].Signature.Split(' ').Should().HaveCount(2);

        var deposit = deliveries.Take(2).Single(d => d.Body.Contains("wallet.deposited"));
        var tampered = deposit with { Body = deposit.Body.Replace("700", "701") };
        (await Verify([oldSecret, newSecret], [tampered]))[0].GetProperty("verifiedBy").GetArrayLength().Should().Be(0,
            "the library refuses an altered body");
    }

    [Test]
    public async Task alert_messages_to_an_admin_endpoint_verify_with_the_npm_standardwebhooks_library()
    {
        NodeTools.Require("standardwebhooks");

        await using var receiver = await WebhookReceiver.Start();
        var created = await admin.PostAsJsonAsync("/admin/webhook-endpoints", new { url = receiver.Url, description = "interop pager" });
        created.StatusCode.Should().Be(HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        var secret = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("secret").GetString()!;
        var alerts = factory.Services.GetRequiredService<IAlerts>();
        const string subject = "interop-ledger";
        (await alerts.Raise(AlertKinds.AuditDrift, subject, "the ledger differs by 1 (interop test)")).Should().BeTrue();
        (await alerts.Resolve(AlertKinds.AuditDrift, subject, "the next audit found no drift")).Should().BeTrue();

        bool Ours(ReceivedWebhook r) => JsonDocument.Parse(r.Body).RootElement.GetProperty("data").GetProperty("subject").GetString() == subject;
        await Until(() => receiver.Received.Count(Ours) == 2, "alert.opened and alert.closed reach the admin endpoint");
        var deliveries = receiver.Received.Where(Ours).ToArray();
        var results = await Verify([secret], deliveries);
        results.Select(r => r.GetProperty("type").GetString()).Should().Equal(["alert.opened", "alert.closed"], "one cause's messages go out in order");
        results.Should().OnlyContain(r => r.GetProperty("verifiedBy").EnumerateArray().Select(x => x.GetInt32()).SequenceEqual(new[] { 0 }),
            "the library verifies both with the admin endpoint's secret");

        var tampered = deliveries[0] with { Body = deliveries[0].Body.Replace("differs by 1", "differs by 9") };
        (await Verify([secret], [tampered]))[0].GetProperty("verifiedBy").GetArrayLength().Should().Be(0, "the library refuses an altered body");
    }

    private static async Task<JsonElement[]> Verify(string[] secrets, ReceivedWebhook[] deliveries)
    {
        var input = JsonSerializer.Serialize(new { secrets, deliveries = deliveries.Select(d => new { headers = d.Headers, body = d.Body }) });
        return JsonDocument.Parse(await NodeTools.Run("verify-webhook.mjs", input)).RootElement.EnumerateArray().ToArray();
    }
}
