using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using FluentAssertions;
using Npgsql;
using NUnit.Framework;
using Steller.Testing;

namespace Steller.Cli.Tests;

/// <summary>The real `steller` CLI: ledger audit and balances from the event store; admin tokens that then work over HTTP.</summary>
public sealed class LedgerCliTests
{
    private static Dictionary<string, string?> Env(TestDatabase db) => new() { ["STELLER__Database__ConnectionString"] = db.ConnectionString };

    private static async Task<StellerProcess> Cli(TestDatabase db, params string[] args) =>
        await StellerProcess.RunToEnd(StellerProcess.Cli(Env(db), args), TimeSpan.FromSeconds(120));

    private static async Task WriteLedger(TestDatabase db, DateTimeOffset t0)
    {
        var w = new WalletWriter(db.CreateEventStore()) { Now = t0 };
        await w.Open("p1", "EUR");
        await w.Deposit("p1", "EUR", 100_00);
        await w.Open("p2", "EUR");
        w.Now = t0.AddHours(1);
        await w.Hold("p1", "EUR", "h1", 30_00, orderId: "o-1");
        await w.Capture("p1", "EUR", "h1", 30_00);
        await w.Transfer("p1", "p2", "EUR", 15_00);
    }

    [Test, CancelAfter(240_000)]
    public async Task ledger_audit_is_clean_on_consistent_data_and_exits_1_naming_the_drift_when_a_read_model_row_is_tampered_with_recording_each_run()
    {
        await using var db = await TestDatabase.Create("cliaudit");
        await WriteLedger(db, DateTimeOffset.UtcNow.AddHours(-2));

        using var rebuild = await Cli(db, "projections", "rebuild", "ledger");
        rebuild.ExitCode.Should().Be(0, rebuild.Stderr + rebuild.Stdout);

        using var clean = await Cli(db, "ledger", "audit");
        clean.ExitCode.Should().Be(0, clean.Stderr + clean.Stdout);
        clean.Stdout.Should().Contain("wallet:p1:EUR").And.Contain("platform:revenue:EUR").And.Contain("55.00").And.Contain("Ledger audit clean");

        await using (var cmd = db.DataSource.CreateCommand("update read.wallet_balances set posted = posted - 1 where account = 'wallet:p2:EUR'"))
            await cmd.ExecuteNonQueryAsync();

        using var drift = await Cli(db, "ledger", "audit");
        drift.ExitCode.Should().Be(1, drift.Stderr + drift.Stdout);
        TestContext.Out.WriteLine(drift.Stdout);
        drift.Stdout.Should().Contain("DRIFT wallet:p2:EUR posted: log (folded) 1500, read model 1499").And.Contain("Ledger audit FAILED");

        using var json = await Cli(db, "ledger", "audit", "--json");
        json.ExitCode.Should().Be(1);
        json.Stdout.Should().Contain("\"clean\": false").And.Contain("\"field\": \"posted\"");

        // Every run by hand is stored in read.audit_runs (trigger cli), the drifting ones flagged with their drift lines.
        (await db.Scalar<string>("select string_agg(result || ':' || flagged, ',' order by id) from read.audit_runs where kind = 'ledger' and trigger = 'cli'"))
            .Should().Be("clean:False,drift:True,drift:True".ToLowerInvariant());
        (await db.Scalar<string>("select drift_lines->>0 from read.audit_runs where result = 'drift' order by id limit 1"))
            .Should().Contain("wallet:p2:EUR posted");
    }

    [Test, CancelAfter(240_000)]
    public async Task ledger_balances_as_of_an_instant_prints_the_balances_of_that_time()
    {
        await using var db = await TestDatabase.Create("clibalances");
        var t0 = new DateTimeOffset(2026, 3, 1, 9, 0, 0, TimeSpan.Zero);
        await WriteLedger(db, t0);

        using var before = await Cli(db, "ledger", "balances", "--as-of", "2026-03-01T09:30:00Z", "--partner", "p1");
        before.ExitCode.Should().Be(0, before.Stderr);
        before.Stdout.Should().Contain("100.00").And.NotContain("55.00").And.NotContain("platform:");

        using var after = await Cli(db, "ledger", "balances");
        after.ExitCode.Should().Be(0, after.Stderr);
        after.Stdout.Should().Contain("55.00").And.Contain("platform:revenue:EUR").And.Contain("30.00",
            "amounts in major units with the currency's ISO 4217 exponent");

        using var audit = await Cli(db, "ledger", "audit", "--as-of", "2026-03-01T09:30:00Z");
        audit.ExitCode.Should().Be(0, audit.Stdout);
        audit.Stdout.Should().Contain("Not compared");

        using var bad = await Cli(db, "ledger", "balances", "--as-of", "last tuesday");
        bad.ExitCode.Should().Be(2);
        bad.Stderr.Should().Contain("--as-of");
    }

    [Test, CancelAfter(240_000)]
    public async Task an_admin_token_created_with_the_cli_works_over_http_until_it_is_revoked()
    {
        await using var db = await TestDatabase.Create("clitoken");
        using var create = await Cli(db, "admin", "token", "create", "--role", "finance", "--name", "alice");
        create.ExitCode.Should().Be(0, create.Stderr);
        var token = create.Stdout.Trim();
        token.Should().StartWith("stl_admin_");

        using var duplicate = await Cli(db, "admin", "token", "create", "--role", "support", "--name", "alice");
        duplicate.ExitCode.Should().Be(1);
        using var badRole = await Cli(db, "admin", "token", "create", "--role", "root", "--name", "bob");
        badRole.ExitCode.Should().NotBe(0);

        using var list = await Cli(db, "admin", "token", "list");
        list.Stdout.Should().Contain("alice").And.Contain("finance").And.NotContain(token);

        await new WalletWriter(db.CreateEventStore()).Onboard("p1"); // the partner whose wallets the token reads
        var port = FreePort();
        var apiEnv = Env(db);
        apiEnv["STELLER__Security__MasterKey"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)); // the API needs one outside Development
        using var api = StellerProcess.Api(apiEnv, "--urls", $"http://127.0.0.1:{port}");
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        await Eventually.True(async () =>
        {
            try { return (await http.GetAsync("/health/live")).IsSuccessStatusCode; }
            catch (HttpRequestException) { return false; }
        }, TimeSpan.FromSeconds(60), "the API is up");
        await Eventually.True(async () => await Get(http, "/admin/partners/p1/wallets", token) != HttpStatusCode.ServiceUnavailable,
            TimeSpan.FromSeconds(30), "the ledger read model exists (503 read_model_unavailable until the projection first runs)");

        (await Get(http, "/admin/partners/p1/wallets", token)).Should().Be(HttpStatusCode.OK);
        (await Get(http, "/admin/audit", token)).Should().Be(HttpStatusCode.Forbidden, "finance may not read the audit");

        using var revoke = await Cli(db, "admin", "token", "revoke", "alice");
        revoke.ExitCode.Should().Be(0, revoke.Stderr);
        (await Get(http, "/admin/partners/p1/wallets", token)).Should().Be(HttpStatusCode.Unauthorized);
        using var again = await Cli(db, "admin", "token", "revoke", "alice");
        again.ExitCode.Should().Be(1);
    }

    private static async Task<HttpStatusCode> Get(HttpClient http, string path, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
