using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Dapper;
using FluentAssertions;
using NUnit.Framework;
using Steller.Domain.Wallets;
using Steller.Infrastructure.Admin;
using Steller.Testing;

namespace Steller.Api.Tests.Admin;

/// <summary>The admin API over real HTTP: bearer tokens and roles, the audit of admin commands, wallets, statements and the ledger audit.</summary>
public sealed class AdminApiTests
{
    private TestDatabase db = null!;
    private ApiFactory factory = null!;
    private HttpClient client = null!;
    private readonly Dictionary<string, string> tokens = new();

    [OneTimeSetUp]
    public async Task Start()
    {
        db = await TestDatabase.Create("adminapi", migrate: false);
        factory = new ApiFactory(db, withTestEndpoints: false);
        client = factory.StartKestrel();
        var store = new AdminTokens(db.DataSource);
        foreach (var role in AdminRoles.All) tokens[role] = (await store.Create($"{role}-user", role, DateTimeOffset.UtcNow)).Token;
        var (_, revoked) = await store.Create("gone", AdminRoles.Admin, DateTimeOffset.UtcNow);
        await store.Revoke("gone", DateTimeOffset.UtcNow);
        tokens["revoked"] = revoked;

        var w = new WalletWriter(db.CreateEventStore());
        await w.Onboard("p1");
        await w.Onboard("p9"); // a partner without wallets
        await w.Open("p1", "EUR");
        await w.Deposit("p1", "EUR", 100_00, reference: "=cmd|' /C calc'!A0");
        await w.Hold("p1", "EUR", "h1", 30_00, orderId: "o-1");
        await w.Capture("p1", "EUR", "h1", 25_00);
        await w.Withdraw("p1", "EUR", 5_00);
        await w.Open("p1", "USD");
        await Eventually.True(async () =>
            {
                try { return await db.Scalar<long>("select count(*) from read.ledger_entries where account = 'wallet:p1:EUR'") == 3; }
                catch (Npgsql.PostgresException) { return false; } // the projection has not created its tables yet
            },
            TimeSpan.FromSeconds(30), "the ledger projection caught up");
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        client.Dispose();
        await factory.DisposeAsync();
        await db.DisposeAsync();
    }

    private HttpRequestMessage Request(HttpMethod method, string path, string? role, string? body = null, string? correlation = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (role is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tokens.GetValueOrDefault(role, role));
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        if (correlation is not null) request.Headers.Add("X-Correlation-Id", correlation);
        return request;
    }

    private async Task<(HttpStatusCode Status, JsonElement Body)> Send(HttpMethod method, string path, string? role, string? body = null, string? correlation = null)
    {
        using var response = await client.SendAsync(Request(method, path, role, body, correlation));
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    [Test]
    public async Task a_request_without_a_token_is_401_admin_token_missing_with_a_bearer_challenge()
    {
        using var response = await client.SendAsync(Request(HttpMethod.Get, "/admin/partners/p1/wallets", null));
        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        response.Headers.WwwAuthenticate.ToString().Should().Contain("Bearer");
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        problem.GetProperty("code").GetString().Should().Be("admin_token_missing");
        problem.GetProperty("correlationId").GetString().Should().NotBeNullOrEmpty();
    }

    [TestCase("stl_admin_thisisnotatoken")]
    [TestCase("garbage")]
    [TestCase("revoked")]
    public async Task an_unknown_malformed_or_revoked_token_is_401_admin_token_invalid(string token)
    {
        var (status, body) = await Send(HttpMethod.Get, "/admin/partners/p1/wallets", token);
        status.Should().Be(HttpStatusCode.Unauthorized);
        body.GetProperty("code").GetString().Should().Be("admin_token_invalid");
    }

    [Test]
    public async Task a_basic_authorization_header_is_not_a_token()
    {
        using var request = Request(HttpMethod.Get, "/admin/partners/p1/wallets", null);
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String("a:b"u8.ToArray()));
        using var response = await client.SendAsync(request);
        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await response.Content.ReadAsStringAsync()).Should().Contain("admin_token_invalid");
    }

    [TestCase("analyst", "/admin/partners/p1/wallets")]
    [TestCase("support", "/admin/audit")]
    [TestCase("finance", "/admin/audit")]
    public async Task a_role_the_endpoint_does_not_allow_is_403_forbidden_role(string role, string path)
    {
        var (status, body) = await Send(HttpMethod.Get, path, role);
        status.Should().Be(HttpStatusCode.Forbidden);
        body.GetProperty("code").GetString().Should().Be("forbidden_role");
        body.GetProperty("detail").GetString().Should().Contain(role);
    }

    [TestCase("finance")]
    [TestCase("support")]
    [TestCase("admin")]
    public async Task finance_support_and_admin_see_a_partners_wallets(string role)
    {
        var (status, body) = await Send(HttpMethod.Get, "/admin/partners/p1/wallets", role);
        status.Should().Be(HttpStatusCode.OK);
        var wallets = body.GetProperty("wallets").EnumerateArray().ToList();
        wallets.Select(w => w.GetProperty("currency").GetString()).Should().Equal("EUR", "USD");
        var eur = wallets[0];
        eur.GetProperty("posted").GetInt64().Should().Be(70_00);
        eur.GetProperty("pending").GetInt64().Should().Be(0);
        eur.GetProperty("available").GetInt64().Should().Be(70_00);
    }

    [Test]
    public async Task a_statement_pages_with_an_opaque_cursor_and_carries_running_balances_and_order_ids()
    {
        var (status, first) = await Send(HttpMethod.Get, "/admin/partners/p1/wallets/EUR/statement?limit=2", "finance");
        status.Should().Be(HttpStatusCode.OK);
        var entries = first.GetProperty("items").EnumerateArray().ToList();
        entries.Select(e => (e.GetProperty("kind").GetString(), e.GetProperty("amount").GetInt64(), e.GetProperty("balanceAfter").GetInt64()))
            .Should().Equal(("deposit", 100_00L, 100_00L), ("capture", -25_00L, 75_00L));
        entries[1].GetProperty("orderId").GetString().Should().Be("o-1");
        var cursor = first.GetProperty("next").GetString();
        cursor.Should().NotBeNullOrEmpty();

        var (_, second) = await Send(HttpMethod.Get, $"/admin/partners/p1/wallets/EUR/statement?limit=2&after={cursor}", "support");
        second.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("balanceAfter").GetInt64()).Should().Equal(70_00L);
        second.GetProperty("next").ValueKind.Should().Be(JsonValueKind.Null);
    }

    [Test]
    public async Task a_statement_range_excludes_entries_outside_from_and_to()
    {
        var (_, page) = await Send(HttpMethod.Get, "/admin/partners/p1/wallets/EUR/statement?to=2000-01-01T00:00:00Z", "finance");
        page.GetProperty("items").GetArrayLength().Should().Be(0);
        var (_, all) = await Send(HttpMethod.Get, $"/admin/partners/p1/wallets/EUR/statement?from=2000-01-01T00:00:00Z&to={Uri.EscapeDataString(DateTimeOffset.UtcNow.AddMinutes(1).ToString("O"))}", "finance");
        all.GetProperty("items").GetArrayLength().Should().Be(3);
    }

    [Test]
    public async Task accept_text_csv_streams_the_whole_statement_with_formula_injection_neutralised()
    {
        using var request = Request(HttpMethod.Get, "/admin/partners/p1/wallets/EUR/statement?limit=1", "finance");
        request.Headers.Accept.ParseAdd("text/csv");
        using var response = await client.SendAsync(request);
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.Should().Be("text/csv");
        var lines = (await response.Content.ReadAsStringAsync()).TrimEnd().Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        lines.Should().HaveCount(4, "a header and every entry, whatever the page limit");
        lines[0].Should().StartWith("recorded_at,kind,transfer_id");
        lines[1].Should().Contain(",deposit,").And.Contain(",100.00,100.00,EUR,'=cmd|' /C calc'!A0,",
            "amounts in major units with the currency's ISO 4217 exponent");
        lines[3].Should().Contain(",withdrawal,").And.Contain(",-5.00,70.00,EUR,");
    }

    [TestCase("/admin/partners/p1/wallets/eur/statement", 400, "invalid_currency")]
    [TestCase("/admin/partners/p1/wallets/EUR/statement?limit=0", 400, "invalid_query")]
    [TestCase("/admin/partners/p1/wallets/EUR/statement?limit=lots", 400, "invalid_query")]
    [TestCase("/admin/partners/p1/wallets/EUR/statement?from=yesterday", 400, "invalid_query")]
    [TestCase("/admin/partners/p1/wallets/EUR/statement?after=!!!", 400, "invalid_cursor")]
    [TestCase("/admin/partners/p1/wallets/EUR/statement?after=bm9wZQ", 400, "invalid_cursor")]
    [TestCase("/admin/partners/p9/wallets/EUR/statement", 404, "wallet_not_found")]
    [TestCase("/admin/partners/p42/wallets/EUR/statement", 404, "partner_not_found")]
    [TestCase("/admin/partners/p42/wallets", 404, "partner_not_found")]
    [TestCase("/admin/partners/p1/wallets/EUR/statement?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", 400, "invalid_query")]
    [TestCase("/admin/audit?limit=100000", 400, "invalid_query")]
    [TestCase("/admin/audit?from=2026-02-01&to=2026-02-01", 400, "invalid_query")]
    [TestCase("/admin/audit?after=zzz", 400, "invalid_cursor")]
    public async Task bad_input_is_a_4xx_problem_naming_it(string path, int expected, string code)
    {
        var (status, body) = await Send(HttpMethod.Get, path, "admin");
        ((int)status).Should().Be(expected);
        body.GetProperty("code").GetString().Should().Be(code);
    }

    [Test]
    public async Task finance_runs_the_ledger_audit_which_is_clean_on_consistent_data()
    {
        var (status, report) = await Send(HttpMethod.Post, "/admin/ledger/audit", "finance");
        status.Should().Be(HttpStatusCode.OK);
        report.GetProperty("clean").GetBoolean().Should().BeTrue();
        report.GetProperty("comparedWithReadModel").GetBoolean().Should().BeTrue();
        report.GetProperty("currencies").EnumerateArray().Should().OnlyContain(c => c.GetProperty("sum").GetInt64() == 0);
        report.GetProperty("accounts").EnumerateArray().Should().Contain(a => a.GetProperty("account").GetString() == Accounts.Revenue("EUR")
                                                                             && a.GetProperty("posted").GetInt64() == 25_00);
    }

    [Test]
    public async Task support_may_not_run_the_ledger_audit()
    {
        var (status, body) = await Send(HttpMethod.Post, "/admin/ledger/audit", "support");
        status.Should().Be(HttpStatusCode.Forbidden);
        body.GetProperty("code").GetString().Should().Be("forbidden_role");
    }

    [Test]
    public async Task every_admin_command_is_audited_with_actor_role_route_outcome_and_correlation_id_but_never_the_body()
    {
        var correlation = $"audit-{Guid.NewGuid():N}";
        await Send(HttpMethod.Post, "/admin/ledger/audit?asOf=2030-01-01T00:00:00Z", "finance", body: """{"password":"hunter2"}""", correlation: correlation);
        await Send(HttpMethod.Post, "/admin/ledger/audit", "support", correlation: correlation);
        await Send(HttpMethod.Post, "/admin/ledger/audit", null, correlation: correlation);
        await Send(HttpMethod.Get, "/admin/partners/p1/wallets", "finance", correlation: correlation);

        await using var conn = await db.DataSource.OpenConnectionAsync();
        var rows = (await conn.QueryAsync<(string Actor, string Role, string Method, string Route, string Path, int Status, string CorrelationId)>(
            "select actor, role, method, route, path, status, correlation_id from read.admin_audit where correlation_id = @correlation order by id",
            new { correlation })).ToList();
        rows.Should().Equal(
            ("finance-user", "finance", "POST", "/admin/ledger/audit", "/admin/ledger/audit", 200, correlation),
            ("support-user", "support", "POST", "/admin/ledger/audit", "/admin/ledger/audit", 403, correlation));
        var everything = string.Join("\n", await conn.QueryAsync<string>("select row_to_json(a)::text from steller.admin_audit a"));
        everything.Should().NotContain("hunter2").And.NotContain("2030", "neither bodies nor query strings are recorded");

        var (status, page) = await Send(HttpMethod.Get, "/admin/audit?actor=support-user", "analyst");
        status.Should().Be(HttpStatusCode.OK);
        page.GetProperty("items").EnumerateArray().Should().Contain(i => i.GetProperty("correlationId").GetString() == correlation
                                                                        && i.GetProperty("status").GetInt32() == 403);
    }

    [Test]
    public async Task the_audit_query_pages_newest_first_with_a_cursor()
    {
        for (var i = 0; i < 3; i++) await Send(HttpMethod.Post, "/admin/ledger/audit", "admin", correlation: $"page-{i}");
        var (_, first) = await Send(HttpMethod.Get, "/admin/audit?actor=admin-user&limit=2", "admin");
        var items = first.GetProperty("items").EnumerateArray().ToList();
        items.Should().HaveCount(2);
        items[0].GetProperty("id").GetInt64().Should().BeGreaterThan(items[1].GetProperty("id").GetInt64());
        var cursor = first.GetProperty("next").GetString();
        var (_, second) = await Send(HttpMethod.Get, $"/admin/audit?actor=admin-user&limit=2&after={cursor}", "admin");
        second.GetProperty("items").EnumerateArray().Should().OnlyContain(i => i.GetProperty("id").GetInt64() < items[1].GetProperty("id").GetInt64());
        var (_, none) = await Send(HttpMethod.Get, "/admin/audit?actor=admin-user&from=2100-01-01T00:00:00Z", "admin");
        none.GetProperty("items").GetArrayLength().Should().Be(0);
    }

    [Test]
    public async Task token_listings_never_hold_a_token_or_its_hash()
    {
        var listed = await new AdminTokens(db.DataSource).List();
        listed.Should().Contain(t => t.Name == "finance-user" && t.Role == "finance");
        JsonSerializer.Serialize(listed).Should().NotContain("stl_admin_");
        var stored = await db.Scalar<string>("select string_agg(encode(token_hash, 'escape'), ',') from steller.admin_tokens");
        stored.Should().NotContain(tokens["finance"]);
    }
}
