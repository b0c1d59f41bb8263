using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using FluentAssertions;
using NUnit.Framework;
using Steller.Api.Tests.Orders;
using Steller.Client;
using Steller.Testing;

namespace Steller.Api.Tests.Webhooks;

/// <summary>
/// The API (with the vendor simulator, for orders) with webhooks allowed to loopback receivers, polled every 50 ms; helpers to
/// register endpoints, make deposits and read the delivery log.
/// </summary>
public abstract class WebhookFixture(string purpose) : OrderFixture(purpose)
{
    protected override IReadOnlyDictionary<string, string?> ExtraSettings => new Dictionary<string, string?>
    {
        ["Webhooks:AllowPrivateTargets"] = "true",
        ["Webhooks:PollMilliseconds"] = "50",
    };

    /// <summary>A failing test shows the API's warnings and errors (the server's side of a 500).</summary>
    [TearDown]
    public void ShowServerErrorsOnFailure()
    {
        if (NUnit.Framework.TestContext.CurrentContext.Result.Outcome.Status != NUnit.Framework.Interfaces.TestStatus.Failed) return;
        foreach (var line in factory.Logs.Lines.Where(l => l.Contains("fail", StringComparison.OrdinalIgnoreCase) || l.Contains("Exception")).TakeLast(20))
            NUnit.Framework.TestContext.Out.WriteLine(line);
    }

    protected static async Task<(string Id, string Secret)> Endpoint(StellerClient partner, string url, string[]? eventTypes = null)
    {
        var response = await partner.Http.PostAsJsonAsync("v1/webhook-endpoints", new { url, eventTypes, description = "test receiver" });
        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return (body.GetProperty("id").GetString()!, body.GetProperty("secret").GetString()!);
    }

    protected async Task Deposit(string partnerId, long amount, string key)
    {
        var deposit = new HttpRequestMessage(HttpMethod.Post, $"/admin/partners/{partnerId}/wallets/EUR/deposits")
        {
            Content = JsonContent.Create(new { amount, reference = key }),
        };
        deposit.Headers.Add("Idempotency-Key", key);
        (await admin.SendAsync(deposit)).EnsureSuccessStatusCode();
    }

    protected static async Task<JsonElement[]> Messages(StellerClient partner, string endpointId, string query = "")
    {
        var page = await partner.Http.GetFromJsonAsync<JsonElement>($"v1/webhook-endpoints/{endpointId}/messages{query}");
        return page.GetProperty("items").EnumerateArray().ToArray();
    }

    /// <summary>
    /// Until the endpoint's message has <paramref name="attempts"/> attempts recorded. Move the clock only after that: the next
    /// attempt is scheduled from the clock when an attempt is recorded, and a receiver sees the request before the answer is.
    /// </summary>
    protected static Task Recorded(StellerClient partner, string endpointId, int attempts) =>
        Eventually.True(async () => (await Messages(partner, endpointId)).Any(m => m.GetProperty("attempts").GetInt32() == attempts),
            TimeSpan.FromSeconds(20), $"attempt {attempts} is recorded");

    protected static Task Until(Func<bool> condition, string what, int seconds = 20) =>
        Eventually.True(() => Task.FromResult(condition()), TimeSpan.FromSeconds(seconds), what);

    /// <summary>Standard Webhooks v1, computed here independently of the API's code.</summary>
    protected static bool SignedBy(ReceivedWebhook w, string secret)
    {
        var key = Convert.FromBase64String(secret["whsec_".Length..]);
        var expected = "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{w.Id}.{w.Timestamp}.{w.Body}")));
        return w.Signature.Split(' ').Contains(expected);
    }

    protected static JsonElement Json(ReceivedWebhook w) => JsonDocument.Parse(w.Body).RootElement;
}
