using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FluentAssertions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using NUnit.Framework;
using Steller.Api.Partners.RequestLog;
using Steller.Client;
using Steller.Infrastructure.Jobs;
using Steller.Testing;

namespace Steller.Api.Tests.Partners;

/// <summary>GET /v1/requests: each partner's own request log, written in batches off the request path.</summary>
public sealed class RequestLogTests() : AdminApiFixture("requestlog")
{

    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Partners:RequestLogFlushMilliseconds"] = "100" };

    [Test]
    public async Task the_request_log_holds_every_request_of_the_partner_none_of_another_and_never_a_secret_or_signature()
    {
        var (a, secretA) = await NewPartner("log-a");
        var (b, secretB) = await NewPartner("log-b");
        var signatures = new ConcurrentBag<string>();
        using var httpA = Signed(a, secretA, signatures);
        using var httpB = Signed(b, secretB, signatures);

        (await Get(httpA, "/v1/me", "log-a-1")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await Get(httpA, "/v1/wallets/USD", "log-a-2")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        var created = await Send(httpA, HttpMethod.Post, "/v1/api-keys", "log-a-3");
        created.StatusCode.Should().Be(HttpStatusCode.Created);
        var secretC = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("secret").GetString()!;
        (await Get(httpA, "/v1/api-keys", "log-a-4")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await Send(httpA, HttpMethod.Post, "/v1/test/echo", "log-a-5", """{"name":"body-must-not-be-logged","count":1}""")).StatusCode
            .Should().Be(HttpStatusCode.OK);
        for (var i = 1; i <= 3; i++) (await Get(httpB, "/v1/me", $"log-b-{i}")).StatusCode.Should().Be(HttpStatusCode.OK);

        var mine = Enumerable.Range(1, 5).Select(i => $"log-a-{i}").ToList();
        PartnerRequestPage page = null!;
        string raw = "";
        await Eventually.True(async () =>
        {
            raw = await (await httpA.GetAsync("/v1/requests?limit=500")).Content.ReadAsStringAsync();
            page = JsonSerializer.Deserialize<PartnerRequestPage>(raw, Json)!;
            return mine.All(id => page.Items.Any(r => r.CorrelationId == id));
        }, TimeSpan.FromSeconds(15), "every request of log-a is in its log (written about 100 ms behind)");

        page.Items.Should().NotContain(r => r.CorrelationId.StartsWith("log-b-"), "another partner's requests are not in this log");
        page.Items.Should().OnlyContain(r => r.KeyId == a && r.ClientIp == "127.0.0.1" && r.LatencyMs >= 0);
        var notFound = page.Items.Single(r => r.CorrelationId == "log-a-2");
        (notFound.Method, notFound.Route, notFound.Status, notFound.ProblemCode)
            .Should().Be(("GET", "/v1/wallets/{currency}", 404, "wallet_not_found"));
        page.Items.Single(r => r.CorrelationId == "log-a-3").Should().Match<PartnerRequestEntry>(r =>
            r.Method == "POST" && r.Route == "/v1/api-keys/" && r.Status == 201 && r.ProblemCode == null);

        var fourHundreds = await httpA.GetFromJsonAsync<PartnerRequestPage>("/v1/requests?status=4xx", Json);
        fourHundreds!.Items.Select(r => r.CorrelationId).Should().Equal("log-a-2");
        var keys = await httpA.GetFromJsonAsync<PartnerRequestPage>("/v1/requests?path=/v1/api-keys", Json);
        keys!.Items.Select(r => r.CorrelationId).Should().BeEquivalentTo("log-a-3", "log-a-4");
        var firstPage = await httpA.GetFromJsonAsync<PartnerRequestPage>("/v1/requests?limit=2", Json);
        firstPage!.Items.Should().HaveCount(2);
        var secondPage = await httpA.GetFromJsonAsync<PartnerRequestPage>($"/v1/requests?limit=2&after={firstPage.Next}", Json);
        var lastOfFirst = firstPage.Items[1].Id;
        secondPage!.Items.Should().HaveCount(2).And.OnlyContain(r => r.Id < lastOfFirst);

        // The scan: neither the table nor the answer holds a secret, a signature, a nonce-bearing header or a body.
        await factory.Services.GetRequiredService<PartnerRequestLog>().Flush();
        var rows = await db.Scalar<string>("select coalesce(string_agg(t::text, E'\\n'), '') from steller.partner_requests t") ?? "";
        rows.Should().Contain("log-a-1");
        signatures.Should().NotBeEmpty();
        foreach (var text in new[] { rows, raw })
        {
            foreach (var secret in new[] { secretA, secretB, secretC }) text.Should().NotContain(secret);
            foreach (var signature in signatures) text.Should().NotContain(signature);
            text.Should().NotContain("sk_").And.NotContain("sig1=").And.NotContain("nonce").And.NotContain("body-must-not-be-logged");
        }
    }

    [Test]
    public async Task the_client_address_is_the_one_a_trusted_proxy_forwarded_and_a_forwarded_address_from_anyone_else_is_ignored()
    {
        var (keyId, secret) = await NewPartner("proxy-co");
        // This fixture's API trusts no proxy: a client that sends the header itself cannot choose its address.
        using var direct = Signed(keyId, secret, []);
        (await Get(direct, "/v1/me", "proxy-direct", forwardedFor: "203.0.113.7")).EnsureSuccessStatusCode();
        // A second API on the same database, behind a proxy on loopback that it trusts: the proxy's own hop counts, the
        // addresses the client claimed before it do not.
        await using var behind = new ApiFactory(db, settings: new Dictionary<string, string?>
        {
            ["Http:TrustedProxies"] = "127.0.0.1",
            ["Partners:RequestLogFlushMilliseconds"] = "100",
        });
        using var started = behind.StartKestrel();
        using var proxied = Signed(keyId, secret, [], started.BaseAddress);
        (await Get(proxied, "/v1/me", "proxy-forwarded", forwardedFor: "198.51.100.1, 203.0.113.9")).EnsureSuccessStatusCode();
        await Logged([factory, behind], "proxy-direct", "proxy-forwarded");

        (await db.Scalar<string>("select client_ip from steller.partner_requests where correlation_id = 'proxy-direct'")).Should().Be("127.0.0.1");
        (await db.Scalar<string>("select client_ip from steller.partner_requests where correlation_id = 'proxy-forwarded'")).Should().Be("203.0.113.9");
    }

    /// <summary>
    /// Until the requests of these correlation ids are in the table: a request's row is queued when its handler has finished,
    /// which its client may see happen after the response arrived, so one flush right after the response can miss it.
    /// </summary>
    private async Task Logged(ApiFactory[] apis, params string[] correlationIds) =>
        await Eventually.True(async () =>
        {
            foreach (var api in apis) await api.Services.GetRequiredService<PartnerRequestLog>().Flush();
            var ids = string.Join(", ", correlationIds.Select(id => $"'{id}'"));
            return await db.Scalar<long>($"select count(distinct correlation_id) from steller.partner_requests where correlation_id in ({ids})")
                == correlationIds.Length;
        }, TimeSpan.FromSeconds(30), $"requests {string.Join(", ", correlationIds)} are in the request log");

    [Test]
    public async Task requests_older_than_thirty_days_are_purged_by_the_retention_job()
    {
        var (keyId, secret) = await NewPartner("old-co");
        using var http = Signed(keyId, secret, []);
        (await Get(http, "/v1/me", "old-1")).EnsureSuccessStatusCode();
        await Logged([factory], "old-1");
        await using (var cmd = db.DataSource.CreateCommand(
            "update steller.partner_requests set at = now() - interval '31 days' where correlation_id = 'old-1'"))
            await cmd.ExecuteNonQueryAsync();
        (await Get(http, "/v1/me", "new-1")).EnsureSuccessStatusCode();
        await Logged([factory], "new-1");

        var purged = await factory.Services.GetRequiredService<OperationalRetention>().Purge(DateTimeOffset.UtcNow, CancellationToken.None);

        purged.PartnerRequests.Should().BeGreaterThanOrEqualTo(1);
        (await db.Scalar<long>("select count(*) from steller.partner_requests where correlation_id = 'old-1'")).Should().Be(0);
        (await db.Scalar<long>("select count(*) from steller.partner_requests where correlation_id = 'new-1'")).Should().Be(1);
    }

    [Test]
    public async Task a_full_queue_drops_and_counts_entries_instead_of_waiting()
    {
        var settings = Steller.Infrastructure.Configuration.StellerSettings.Load(new Microsoft.Extensions.Configuration.ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Database:ConnectionString"] = db.ConnectionString,
                ["Partners:RequestLogQueueCapacity"] = "2",
            }).Build());
        var log = new PartnerRequestLog(db.DataSource, settings);
        var dropped = PartnerRequestLog.Dropped.Value;
        var clock = System.Diagnostics.Stopwatch.StartNew();

        for (var i = 0; i < 5; i++)
            log.Enqueue(new PartnerRequestLog.Entry(DateTimeOffset.UtcNow, "queue-co", "pk_queue-co_x", "GET", "/v1/me", 200, null, 1, $"q-{i}", "127.0.0.1"));

        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(1), "enqueueing never waits for the writer");
        PartnerRequestLog.Dropped.Value.Should().Be(dropped + 3);
        (await log.Flush()).Should().Be(2);
        (await db.Scalar<long>("select count(*) from steller.partner_requests where partner_id = 'queue-co'")).Should().Be(2);
    }

    // ---- helpers ----

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private async Task<(string KeyId, string Secret)> NewPartner(string id)
    {
        (await client.PostAsJsonAsync("/admin/partners", new { partnerId = id, name = id, contactEmail = $"ops@{id}.test" })).EnsureSuccessStatusCode();
        var key = await (await client.PostAsync($"/admin/partners/{id}/api-keys", null)).Content.ReadFromJsonAsync<JsonElement>();
        return (key.GetProperty("keyId").GetString()!, key.GetProperty("secret").GetString()!);
    }

    private HttpClient Signed(string keyId, string secret, ConcurrentBag<string> signatures, Uri? api = null) =>
        new(new SigningHandler(keyId, secret, inner: new Recorder(signatures) { InnerHandler = new HttpClientHandler() }))
            { BaseAddress = api ?? client.BaseAddress };

    private static Task<HttpResponseMessage> Get(HttpClient http, string path, string correlationId, string? forwardedFor = null) =>
        Send(http, HttpMethod.Get, path, correlationId, forwardedFor: forwardedFor);

    private static Task<HttpResponseMessage> Send(HttpClient http, HttpMethod method, string path, string correlationId, string? json = null,
        string? forwardedFor = null)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Add("X-Correlation-Id", correlationId);
        if (forwardedFor is not null) request.Headers.Add("X-Forwarded-For", forwardedFor);
        if (json is not null) request.Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        return http.SendAsync(request);
    }

    /// <summary>Sees each request as signed and keeps its Signature and Signature-Input values, for the scan.</summary>
    private sealed class Recorder(ConcurrentBag<string> seen) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
        {
            foreach (var name in new[] { "Signature", "Signature-Input" })
                if (request.Headers.TryGetValues(name, out var values))
                    foreach (var v in values) seen.Add(v[(v.IndexOf('=') + 1)..]);
            return base.SendAsync(request, ct);
        }
    }
}
