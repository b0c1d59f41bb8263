using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FluentAssertions;
using NUnit.Framework;
using Steller.Client;
using Steller.Testing;

namespace Steller.Api.Tests.Wallets;

/// <summary>The partner side of wallets over the signed API, through the .NET SDK: own wallets only, statements as pages and CSV.</summary>
public sealed class PartnerWalletApiTests() : AdminApiFixture("partnerwallets")
{

    [Test, CancelAfter(60_000)]
    public async Task a_partner_reads_its_own_wallets_and_statement_and_nobody_elses()
    {
        var (keyId, secret) = await Partner("acme");
        await Partner("globex");
        await Deposit("acme", "acme-dep-1", 100_00);
        await Deposit("acme", "acme-dep-2", 50_00);
        await Deposit("globex", "globex-dep-1", 999_00);
        (await client.PostAsJsonAsync("/admin/partners/acme/wallets/EUR/holds", new { transferId = "acme-h1", amount = 30_00 })).EnsureSuccessStatusCode();
        (await client.PostAsJsonAsync("/admin/partners/acme/wallets/EUR/holds/acme-h1/capture", new { amount = 20_00 })).EnsureSuccessStatusCode();

        using var steller = StellerClient.Create(new Uri(client.BaseAddress!, "/"), keyId, secret);
        await Eventually.True(async () => (await steller.GetWallets()).Wallets.SingleOrDefault()?.Posted == 130_00, TimeSpan.FromSeconds(30), "the balance read model caught up");

        var wallets = await steller.GetWallets();
        wallets.PartnerId.Should().Be("acme");
        wallets.Wallets.Should().ContainSingle().Which.Should().BeEquivalentTo(new { Currency = "EUR", Posted = 130_00L, Pending = 0L, Available = 130_00L });

        var first = await steller.GetStatement("EUR", limit: 2);
        first.Items.Select(e => e.Amount).Should().Equal(100_00, 50_00);
        first.Next.Should().NotBeNull();
        var second = await steller.GetStatement("EUR", limit: 2, after: first.Next);
        second.Items.Should().ContainSingle().Which.Should().BeEquivalentTo(new { Amount = -20_00L, BalanceAfter = 130_00L, TransferId = "acme-h1" });

        var csv = await steller.GetStatementCsv("EUR");
        csv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().HaveCount(4, "a header and three postings");
        csv.Should().Contain("acme-dep-1").And.NotContain("globex");

        var foreign = async () => await steller.GetStatement("USD");
        (await foreign.Should().ThrowAsync<StellerApiException>()).Which.Code.Should().Be("wallet_not_found");
    }

    [Test]
    public async Task an_unsigned_request_for_wallets_is_refused()
    {
        using var plain = factory.CreateClient();
        var response = await plain.GetAsync("/v1/wallets");
        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString().Should().Be("signature_missing");
    }

    private async Task<(string KeyId, string Secret)> Partner(string id)
    {
        (await client.PostAsJsonAsync("/admin/partners", new { partnerId = id, name = id, contactEmail = $"ops@{id}.test" })).EnsureSuccessStatusCode();
        (await client.PostAsJsonAsync($"/admin/partners/{id}/wallets", new { currency = "EUR" })).EnsureSuccessStatusCode();
        var key = await (await client.PostAsync($"/admin/partners/{id}/api-keys", null)).Content.ReadFromJsonAsync<JsonElement>();
        return (key.GetProperty("keyId").GetString()!, key.GetProperty("secret").GetString()!);
    }

    private async Task Deposit(string partner, string key, long amount)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/admin/partners/{partner}/wallets/EUR/deposits") { Content = JsonContent.Create(new { amount, reference = key }) };
        request.Headers.Add("Idempotency-Key", key);
        (await client.SendAsync(request)).EnsureSuccessStatusCode();
    }
}
