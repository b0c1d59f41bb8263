using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FluentAssertions;
using NUnit.Framework;

namespace Steller.Api.Tests.Webhooks;

/// <summary>
/// Deliveries verified by the npm package standardwebhooks (the Standard Webhooks reference library for JavaScript), before and
/// during a secret rotation; ignored when node or tests/tools/node_modules is missing, like the RFC 9421 interoperability test.
/// </summary>
public sealed class WebhookInteropTests() : WebhookFixture("webhookinterop")
{
    [Test]
    public async Task deliveries_verify_with_the_npm_standardwebhooks_library_also_during_a_secret_rotation()
    {
        var tools = Path.Combine(RepoRoot(), "tests", "tools");
        if (!Directory.Exists(Path.Combine(tools, "node_modules", "standardwebhooks")))
            Assert.Ignore("node or tests/tools/node_modules is missing: ./test.sh runs `npm ci --prefix tests/tools` when node is installed.");

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
        var results = await Verify(tools, [oldSecret, newSecret], deliveries);
        results[0].GetProperty("verifiedBy").EnumerateArray().Select(x => x.GetInt32()).Should().Equal([0], "before: the old secret");
        results[0].GetProperty("type").GetString().Should().Be("webhook.test");
        results[1].GetProperty("verifiedBy").EnumerateArray().Select(x => x.GetInt32()).Should().Equal([0]);
        results[1].GetProperty("type").GetString().Should().Be("wallet.deposited");
        results[2].GetProperty("verifiedBy").EnumerateArray().Select(x => x.GetInt32()).Should().Equal([0, 1],
            "during the rotation both secrets verify (two space-separated v1 signatures)");
        deliveries[2].Signature.Split(' ').Should().HaveCount(2);

        var tampered = deliveries[1] with { Body = deliveries[1].Body.Replace("700", "701") };
        (await Verify(tools, [oldSecret, newSecret], [tampered]))[0].GetProperty("verifiedBy").GetArrayLength().Should().Be(0,
            "the library refuses an altered body");
    }

    private static async Task<JsonElement[]> Verify(string tools, string[] secrets, ReceivedWebhook[] deliveries)
    {
        var input = JsonSerializer.Serialize(new { secrets, deliveries = deliveries.Select(d => new { headers = d.Headers, body = d.Body }) });
        var info = new ProcessStartInfo("node", [Path.Combine(tools, "verify-webhook.mjs")])
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = tools,
        };
        Process process;
        try { process = Process.Start(info)!; }
        catch (System.ComponentModel.Win32Exception) { Assert.Ignore("node is not installed."); throw; }
        await process.StandardInput.WriteAsync(input);
        process.StandardInput.Close();
        var stdout = await process.StandardOutput.ReadToEndAsync();
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        process.ExitCode.Should().Be(0, stderr);
        return JsonDocument.Parse(stdout).RootElement.EnumerateArray().ToArray();
    }

    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Steller.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new DirectoryNotFoundException("Steller.sln not found above the test assembly.");
    }
}
