using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FluentAssertions;
using NUnit.Framework;
using Steller.Application.Webhooks;
using Steller.Infrastructure.Webhooks;

namespace Steller.Api.Tests.Webhooks;

/// <summary>
/// Outside the sandbox (<c>Webhooks:AllowPrivateTargets</c> off, the default this fixture runs with): only https to public
/// addresses, checked when an endpoint is registered and again on every DNS answer when a delivery connects. Driven through the
/// admin mirror of the partner routes.
/// </summary>
public sealed class WebhookTargetTests() : AdminApiFixture("webhooktargets")
{
    [TestCase("http://hooks.example.com/x", TestName = "plain http is refused outside the sandbox")]
    [TestCase("https://127.0.0.1/x", TestName = "a loopback address is refused")]
    [TestCase("https://[::1]:8443/x", TestName = "the IPv6 loopback is refused")]
    [TestCase("https://169.254.169.254/latest/meta-data/", TestName = "the cloud metadata address is refused")]
    [TestCase("https://10.1.2.3/x", TestName = "a private address is refused")]
    [TestCase("https://192.168.1.10/x", TestName = "a home network address is refused")]
    [TestCase("https://[fd00::1]/x", TestName = "an IPv6 unique local address is refused")]
    [TestCase("https://[::ffff:127.0.0.1]/x", TestName = "an IPv4-mapped loopback is refused")]
    [TestCase("https://localhost:8443/x", TestName = "localhost is refused")]
    public async Task private_targets_are_refused_when_private_targets_are_not_allowed(string url)
    {
        await EnsurePartner();
        var response = await client.PostAsJsonAsync("/admin/partners/wh-targets/webhook-endpoints", new { url });
        response.StatusCode.Should().Be(HttpStatusCode.BadRequest, url);
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("url", out _).Should().BeTrue();
        (await db.Scalar<long>($"select count(*) from ops.webhook_endpoints where url = '{url}'")).Should().Be(0);
    }

    [Test]
    public async Task a_public_https_target_is_accepted_through_the_admin_mirror_and_an_unknown_partner_is_404()
    {
        await EnsurePartner();
        var response = await client.PostAsJsonAsync("/admin/partners/wh-targets/webhook-endpoints", new { url = "https://hooks.example.com/steller" });
        response.StatusCode.Should().Be(HttpStatusCode.Created);
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
        (await client.GetFromJsonAsync<JsonElement>("/admin/partners/wh-targets/webhook-endpoints")).GetProperty("items")[0]
            .GetProperty("id").GetString().Should().Be(id);
        (await client.DeleteAsync($"/admin/partners/wh-targets/webhook-endpoints/{id}")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        var unknown = await client.GetAsync("/admin/partners/nobody-here/webhook-endpoints");
        unknown.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await unknown.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString().Should().Be("partner_not_found");
    }

    [Test]
    public async Task a_name_whose_dns_answer_is_internal_is_refused_when_the_delivery_connects()
    {
        var refused = async () => await WebhookConnections.Resolve("localhost", allowPrivate: false, CancellationToken.None);
        (await refused.Should().ThrowAsync<WebhookTargetRefusedException>()).Which.Message.Should().Contain("internal address");
        (await WebhookConnections.Resolve("localhost", allowPrivate: true, CancellationToken.None)).Should().NotBeEmpty("the sandbox allows it");
    }

    [Test]
    public void the_address_classes_a_webhook_must_not_reach_are_internal()
    {
        foreach (var internalAddress in new[] { "127.0.0.1", "10.0.0.1", "172.16.0.1", "192.168.0.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
                     "::1", "fe80::1", "fd12::1", "::ffff:10.0.0.1", "224.0.0.1" })
            WebhookTargets.IsInternal(IPAddress.Parse(internalAddress)).Should().BeTrue(internalAddress);
        foreach (var publicAddress in new[] { "93.184.216.34", "8.8.8.8", "2606:4700::1111" })
            WebhookTargets.IsInternal(IPAddress.Parse(publicAddress)).Should().BeFalse(publicAddress);
    }

    [TearDown]
    public void ShowServerErrorsOnFailure()
    {
        if (TestContext.CurrentContext.Result.Outcome.Status != NUnit.Framework.Interfaces.TestStatus.Failed) return;
        foreach (var line in factory.Logs.Lines.Where(l => l.Contains("fail", StringComparison.OrdinalIgnoreCase) || l.Contains("Exception")).TakeLast(20))
            TestContext.Out.WriteLine(line);
    }

    private async Task EnsurePartner()
    {
        var response = await client.PostAsJsonAsync("/admin/partners", new { partnerId = "wh-targets", name = "Targets", contactEmail = "ops@targets.test" });
        response.StatusCode.Should().BeOneOf(HttpStatusCode.Created, HttpStatusCode.OK, HttpStatusCode.Conflict);
    }
}
