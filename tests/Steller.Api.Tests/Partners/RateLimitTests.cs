using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using FluentAssertions;
using NUnit.Framework;
using Steller.Client;
using Steller.Testing;

namespace Steller.Api.Tests.Partners;

/// <summary>
/// Rate limits over real Kestrel: a partner held to its own limit under a parallel flood while another partner is not, every
/// refusal a 429 with Retry-After and the IETF RateLimit headers; refused (unsigned or forged) traffic limited per client
/// address, which loopback addresses 127.0.0.x tell apart.
/// </summary>
public sealed class RateLimitTests() : AdminApiFixture("ratelimits")
{
    private const int IpRate = 5, IpBurst = 10;

    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["RateLimits:UnauthenticatedPerIpPerSecond"] = $"{IpRate}",
        ["RateLimits:UnauthenticatedPerIpBurst"] = $"{IpBurst}",
    };

    [Test]
    public async Task a_partner_flooding_at_four_times_its_limit_from_32_clients_gets_no_more_than_its_limit_and_another_partner_is_unaffected()
    {
        const int rate = 20, burst = 10, clients = 32;
        var (floodKey, floodSecret) = await NewPartner("flood-co");
        (await client.PutAsJsonAsync("/admin/partners/flood-co/rate-limit", new { requestsPerSecond = rate, burst })).EnsureSuccessStatusCode();
        var (calmKey, calmSecret) = await NewPartner("calm-co");

        var duration = TimeSpan.FromSeconds(4);
        var interval = 1000.0 * clients / (4 * rate); // each client's pace: together 4x the limit
        var flood = new ConcurrentBag<HttpResponseMessage>();
        var calm = new ConcurrentBag<HttpResponseMessage>();
        var clock = Stopwatch.StartNew();
        var floods = Enumerable.Range(0, clients).Select(async i =>
        {
            using var http = From("127.0.0.1", floodKey, floodSecret);
            for (var due = i * interval / clients; due < duration.TotalMilliseconds; due += interval)
            {
                var wait = due - clock.Elapsed.TotalMilliseconds;
                if (wait > 0) await Task.Delay(TimeSpan.FromMilliseconds(wait));
                flood.Add(await http.GetAsync("/v1/me"));
            }
        });
        var calmer = Task.Run(async () =>
        {
            using var http = From("127.0.0.1", calmKey, calmSecret);
            for (var i = 0; i < 20; i++)
            {
                calm.Add(await http.GetAsync("/v1/me"));
                await Task.Delay(150);
            }
        });
        await Task.WhenAll(floods.Append(calmer));
        var elapsed = clock.Elapsed.TotalSeconds;

        var admitted = flood.Count(r => r.StatusCode == HttpStatusCode.OK);
        var refused = flood.Where(r => r.StatusCode != HttpStatusCode.OK).ToList();
        TestContext.Out.WriteLine($"{flood.Count} requests in {elapsed:0.00} s: {admitted} admitted, {refused.Count} refused");
        admitted.Should().BeLessThanOrEqualTo((int)Math.Floor(rate * elapsed) + burst, "one node: no overshoot beyond rate x time + burst");
        admitted.Should().BeGreaterThanOrEqualTo(burst);
        flood.Count.Should().BeGreaterThan((int)(2 * rate * elapsed), "the flood really ran well above the limit");
        foreach (var r in refused) await ExpectRateLimited(r, "partner", burst);
        foreach (var r in flood.Where(r => r.StatusCode == HttpStatusCode.OK))
            r.Headers.GetValues("RateLimit").Single().Should().MatchRegex("^\"partner\";r=[0-9]+;t=[0-9]+$");
        calm.Should().HaveCount(20).And.OnlyContain(r => r.StatusCode == HttpStatusCode.OK, "another partner has its own bucket");

        (await Metric("flood-co")).Should().Be(refused.Count);
        (await Metric("calm-co")).Should().Be(0);
    }

    [Test]
    public async Task an_unsigned_flood_from_one_address_is_limited_while_a_signed_partner_from_another_address_is_not()
    {
        var (keyId, secret) = await NewPartner("neighbour-co");
        using var attacker = From("127.0.0.3");
        using var partner = From("127.0.0.2", keyId, secret);

        var clock = Stopwatch.StartNew();
        var unsigned = new List<HttpResponseMessage>();
        var signed = new List<HttpResponseMessage>();
        var flood = Task.Run(async () => { for (var i = 0; i < 80; i++) unsigned.Add(await attacker.GetAsync("/v1/me")); });
        var calm = Task.Run(async () => { for (var i = 0; i < 20; i++) signed.Add(await partner.GetAsync("/v1/me")); });
        await Task.WhenAll(flood, calm);
        var elapsed = clock.Elapsed.TotalSeconds;

        var answered = unsigned.Count(r => r.StatusCode == HttpStatusCode.Unauthorized);
        answered.Should().BeLessThanOrEqualTo((int)Math.Floor(IpRate * elapsed) + IpBurst, "refused requests are limited per address");
        answered.Should().BeGreaterThanOrEqualTo(IpBurst);
        foreach (var r in unsigned.Where(r => r.StatusCode != HttpStatusCode.Unauthorized)) await ExpectRateLimited(r, "unauthenticated", IpBurst);
        signed.Should().OnlyContain(r => r.StatusCode == HttpStatusCode.OK, "a signed partner from another address is not limited");
        (await Metric("_unauthenticated")).Should().BeGreaterThanOrEqualTo(unsigned.Count - answered);
    }

    [Test]
    public async Task forged_requests_never_spend_a_partners_budget()
    {
        var (keyId, secret) = await NewPartner("guarded-co");
        (await client.PutAsJsonAsync("/admin/partners/guarded-co/rate-limit", new { requestsPerSecond = 1, burst = 5 })).EnsureSuccessStatusCode();
        using (var forger = From("127.0.0.4", keyId, secret + "-guess"))
            for (var i = 0; i < 30; i++)
                (await forger.GetAsync("/v1/me")).StatusCode.Should().BeOneOf(HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests);

        using var genuine = From("127.0.0.5", keyId, secret);
        for (var i = 0; i < 5; i++)
        {
            var ok = await genuine.GetAsync("/v1/me");
            ok.StatusCode.Should().Be(HttpStatusCode.OK, "the whole burst is still there after 30 forged requests");
            ok.Headers.GetValues("RateLimit-Policy").Single().Should().Be("\"partner\";q=5;w=5");
        }
        await ExpectRateLimited(await genuine.GetAsync("/v1/me"), "partner", 5);
    }

    [Test]
    public async Task an_admin_sets_a_partners_rate_limit_within_bounds_and_the_partner_shows_it()
    {
        await NewPartner("limits-co");
        var set = await client.PutAsJsonAsync("/admin/partners/limits-co/rate-limit", new { requestsPerSecond = 50, burst = 100 });
        set.StatusCode.Should().Be(HttpStatusCode.OK);
        (await set.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("rateLimit").GetRawText().Should().Be("""{"requestsPerSecond":50,"burst":100}""");
        var bad = await client.PutAsJsonAsync("/admin/partners/limits-co/rate-limit", new { requestsPerSecond = 0, burst = 100 });
        bad.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await bad.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString().Should().Be("invalid_rate_limit");
    }

    // ---- helpers ----

    private async Task<(string KeyId, string Secret)> NewPartner(string id)
    {
        (await client.PostAsJsonAsync("/admin/partners", new { partnerId = id, name = id, contactEmail = $"ops@{id}.test" })).EnsureSuccessStatusCode();
        var key = await (await client.PostAsync($"/admin/partners/{id}/api-keys", null)).Content.ReadFromJsonAsync<JsonElement>();
        return (key.GetProperty("keyId").GetString()!, key.GetProperty("secret").GetString()!);
    }

    /// <summary>A client whose connections come from <paramref name="localAddress"/> (any 127.0.0.x on loopback), signing when given a key.</summary>
    private HttpClient From(string localAddress, string? keyId = null, string? secret = null)
    {
        var sockets = new SocketsHttpHandler
        {
            ConnectCallback = async (context, ct) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(new IPEndPoint(IPAddress.Parse(localAddress), 0));
                    await socket.ConnectAsync(context.DnsEndPoint, ct);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        HttpMessageHandler handler = keyId is null ? sockets : new SigningHandler(keyId, secret!, inner: sockets);
        return new HttpClient(handler) { BaseAddress = client.BaseAddress };
    }

    private static async Task ExpectRateLimited(HttpResponseMessage response, string policy, int quota)
    {
        var body = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.TooManyRequests, body);
        JsonDocument.Parse(body).RootElement.GetProperty("code").GetString().Should().Be("rate_limited");
        response.Headers.RetryAfter!.Delta!.Value.TotalSeconds.Should().BeGreaterThanOrEqualTo(1);
        response.Headers.GetValues("RateLimit-Policy").Single().Should().StartWith($"\"{policy}\";q={quota};w=");
        response.Headers.GetValues("RateLimit").Single().Should().MatchRegex($"^\"{policy}\";r=0;t=[1-9][0-9]*$");
    }

    private async Task<long> Metric(string partner)
    {
        var text = await client.GetStringAsync("/metrics");
        var match = Regex.Match(text, $"^steller_rate_limited_total\\{{partner=\"{Regex.Escape(partner)}\"\\}} ([0-9.e+]+)$", RegexOptions.Multiline);
        return match.Success ? (long)double.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 0;
    }
}
