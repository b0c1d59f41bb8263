using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using FluentAssertions;
using NUnit.Framework;
using Steller.Client;
using Steller.Domain;
using Steller.Testing;

namespace Steller.Cli.Tests;

/// <summary>A partner's GET /v1/wallets/{currency}?asOf= answers what finance's `steller ledger balances --as-of` prints.</summary>
public sealed class WalletAsOfTests
{
    [Test, CancelAfter(300_000)]
    public async Task a_partners_balance_as_of_an_instant_equals_the_clis_ledger_balances_as_of_that_instant()
    {
        await using var db = await TestDatabase.Create("walletasof");
        var t0 = new DateTimeOffset(2026, 3, 1, 9, 0, 0, TimeSpan.Zero);
        var w = new WalletWriter(db.CreateEventStore()) { Now = t0 };
        await w.Onboard("p1");
        await w.Onboard("p2");
        await w.Open("p1", "EUR");
        await w.Deposit("p1", "EUR", 100_00);
        await w.Open("p2", "EUR");
        w.Now = t0.AddHours(1);
        await w.Hold("p1", "EUR", "h1", 30_00, orderId: "o-1");
        await w.Capture("p1", "EUR", "h1", 30_00);
        await w.Transfer("p1", "p2", "EUR", 15_00);
        await w.Hold("p1", "EUR", "h2", 7_00);
        w.Now = t0.AddHours(2);
        await w.CreditLimit("p1", "EUR", 20_00);

        var env = new Dictionary<string, string?>
        {
            ["STELLER__Database__ConnectionString"] = db.ConnectionString,
            ["STELLER__Security__MasterKey"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)),
        };
        using var token = await StellerProcess.RunToEnd(StellerProcess.Cli(env, "admin", "token", "create", "--role", "admin", "--name", "t"),
            TimeSpan.FromSeconds(120));
        token.ExitCode.Should().Be(0, token.Stderr);
        var api = await StellerProcess.StartApi(env);
        using var _ = api.Process;
        using var admin = new HttpClient { BaseAddress = api.Url };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token.Stdout.Trim());
        var key = await (await admin.PostAsync("/admin/partners/p1/api-keys", null)).Content.ReadFromJsonAsync<JsonElement>();
        using var partner = new HttpClient(new SigningHandler(key.GetProperty("keyId").GetString()!, key.GetProperty("secret").GetString()!))
            { BaseAddress = api.Url };

        foreach (var instant in new[] { "2026-03-01T09:30:00Z", "2026-03-01T10:30:00Z", "2026-03-01T11:30:00Z" })
        {
            using var cli = await StellerProcess.RunToEnd(StellerProcess.Cli(env, "ledger", "balances", "--as-of", instant, "--partner", "p1"),
                TimeSpan.FromSeconds(120));
            cli.ExitCode.Should().Be(0, cli.Stderr);
            var row = Row(cli.Stdout, "p1", "EUR");

            var response = await partner.GetAsync($"/v1/wallets/EUR?asOf={instant}");
            response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
            var view = await response.Content.ReadFromJsonAsync<JsonElement>();
            var api_ = new[]
            {
                "p1", "EUR", Money.Format(view.GetProperty("posted").GetInt64(), "EUR"), Money.Format(view.GetProperty("pending").GetInt64(), "EUR"),
                Money.Format(view.GetProperty("available").GetInt64(), "EUR"), Money.Format(view.GetProperty("creditLimit").GetInt64(), "EUR"),
                view.GetProperty("frozen").GetBoolean() ? "yes" : "no", view.GetProperty("revision").GetInt64().ToString(),
            };
            TestContext.Out.WriteLine($"{instant}: CLI [{string.Join(" | ", row)}], API [{string.Join(" | ", api_)}]");
            api_.Should().Equal(row, $"as of {instant} the API and the CLI fold the same events");
        }

        // The three instants differ, so the comparison is not trivially equal.
        var early = await (await partner.GetAsync("/v1/wallets/EUR?asOf=2026-03-01T09:30:00Z")).Content.ReadFromJsonAsync<JsonElement>();
        early.GetProperty("posted").GetInt64().Should().Be(100_00);
        var late = await (await partner.GetAsync("/v1/wallets/EUR?asOf=2026-03-01T11:30:00Z")).Content.ReadFromJsonAsync<JsonElement>();
        late.GetProperty("posted").GetInt64().Should().Be(55_00);
        late.GetProperty("pending").GetInt64().Should().Be(7_00);
        late.GetProperty("creditLimit").GetInt64().Should().Be(20_00);

        (await partner.GetAsync("/v1/wallets/EUR?asOf=2026-03-01T08:00:00Z")).StatusCode.Should().Be(HttpStatusCode.NotFound,
            "the wallet was not open yet");
        (await partner.GetAsync("/v1/wallets/EUR?asOf=yesterday")).StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await partner.GetAsync("/v1/wallets/USD")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    /// <summary>The cells of the CLI table row for one wallet (box-drawn or ASCII borders).</summary>
    private static string[] Row(string stdout, string partner, string currency)
    {
        foreach (var line in stdout.Split('\n'))
        {
            var cells = line.Split('│', '|').Select(c => c.Trim()).Where(c => c.Length > 0).ToArray();
            if (cells.Length == 8 && cells[0] == partner && cells[1] == currency) return cells;
        }
        Assert.Fail($"No row for {partner} {currency} in:\n{stdout}");
        return [];
    }
}
