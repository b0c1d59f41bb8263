using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FluentAssertions;
using Microsoft.Extensions.DependencyInjection;
using NUnit.Framework;
using Steller.Application.Catalog;
using Steller.Client;
using Steller.Domain.Catalog;
using Steller.Testing;

namespace Steller.Api.Tests.Orders;

/// <summary>
/// The API on real Kestrel over a fresh database, its vendors pointed at the vendor simulator (also on Kestrel,
/// loopback), the catalog synced from it once; helpers to onboard funded partners and to wait for orders.
/// </summary>
public abstract class OrderFixture(string purpose)
{
    protected TestDatabase db = null!;
    protected ApiFactory factory = null!;
    protected SimulatorHost sim = null!;
    /// <summary>Admin bearer token, role admin.</summary>
    protected HttpClient admin = null!;

    protected static string GiftCardSku(int productId) => Skus.ForVendorProduct("giftcard", productId.ToString());
    protected static string TopUpSku(string skuCode) => Skus.ForVendorProduct("topup", skuCode);
    /// <summary>Amazon.de 25 EUR (cost 24.00).</summary>
    protected static readonly string Amazon25 = GiftCardSku(101);
    /// <summary>Vodafone Germany 15 EUR top-up (5% commission).</summary>
    protected static readonly string Vodafone15 = TopUpSku("VFDE-15EUR");
    protected const string Phone = "+4915112345678";

    [OneTimeSetUp]
    public async Task Start()
    {
        // 12-digit PINs: long enough that a scan for one in logs and tables cannot match by chance.
        sim = await SimulatorHost.Start(["--Simulator:GiftCard:PinLength=12", .. SimulatorArgs]);
        db = await TestDatabase.Create(purpose, migrate: false);
        var settings = new Dictionary<string, string?>(sim.StellerSettings()) { ["Orders:PollIntervalMilliseconds"] = "200" };
        foreach (var (key, value) in ExtraSettings) settings[key] = value;
        factory = new ApiFactory(db, maxBodyBytes: 1_048_576, settings: settings);
        factory.StartKestrel().Dispose();
        await factory.ReadModelsRegistered();
        admin = await factory.AdminClient();
        var reports = await factory.Services.GetRequiredService<CatalogSync>().RunAll(CancellationToken.None);
        reports.Should().OnlyContain(r => r.Complete && r.Read > 0, "both simulated catalogs are read whole");
        await sim.Reset(); // the catalog reads count against nothing the tests look at
    }

    /// <summary>Command-line settings a fixture gives the simulator (e.g. its opening balances).</summary>
    protected virtual string[] SimulatorArgs => [];

    /// <summary>Settings a fixture adds or overrides (after the simulator's).</summary>
    protected virtual IReadOnlyDictionary<string, string?> ExtraSettings => new Dictionary<string, string?>();

    [OneTimeTearDown]
    public async Task Stop()
    {
        admin.Dispose();
        await factory.DisposeAsync();
        await sim.DisposeAsync();
        await db.DisposeAsync();
    }

    [SetUp]
    public Task ResetSimulator() => sim.Reset();

    /// <summary>A partner with an API key and a EUR wallet holding <paramref name="funds"/>, and a signed client for it.</summary>
    protected async Task<StellerClient> Partner(string id, long funds, string currency = "EUR")
    {
        (await admin.PostAsJsonAsync("/admin/partners", new { partnerId = id, name = id, contactEmail = $"ops@{id}.test" })).EnsureSuccessStatusCode();
        (await admin.PostAsJsonAsync($"/admin/partners/{id}/wallets", new { currency })).EnsureSuccessStatusCode();
        if (funds > 0)
        {
            var deposit = new HttpRequestMessage(HttpMethod.Post, $"/admin/partners/{id}/wallets/{currency}/deposits") { Content = JsonContent.Create(new { amount = funds, reference = "seed" }) };
            deposit.Headers.Add("Idempotency-Key", $"seed-{id}");
            (await admin.SendAsync(deposit)).EnsureSuccessStatusCode();
        }
        var key = await (await admin.PostAsync($"/admin/partners/{id}/api-keys", null)).Content.ReadFromJsonAsync<JsonElement>();
        // Signed on the API's clock: a test that moves it (timeouts) keeps its partners' signatures fresh.
        return StellerClient.Create(new Uri(admin.BaseAddress!, "/"), key.GetProperty("keyId").GetString()!, key.GetProperty("secret").GetString()!,
            time: new ApiTime(factory.Clock));
    }

    /// <summary>The live wallet (from its stream): posted, pending.</summary>
    protected async Task<(long Posted, long Pending)> Wallet(string partner, string currency = "EUR")
    {
        var w = await admin.GetFromJsonAsync<JsonElement>($"/admin/partners/{partner}/wallets/{currency}");
        return (w.GetProperty("posted").GetInt64(), w.GetProperty("pending").GetInt64());
    }

    protected static async Task<PartnerOrder> Terminal(StellerClient partner, string orderId, int seconds = 60)
    {
        PartnerOrder? order = null;
        await Eventually.True(async () =>
        {
            order = await partner.GetOrder(orderId);
            return order.Status is "Completed" or "PartiallyCompleted" or "Failed" or "Cancelled" or "Rejected";
        }, TimeSpan.FromSeconds(seconds), $"order {orderId} reaches a final status");
        return order!;
    }

    /// <summary>A stocked voucher product with <paramref name="codes"/> received at location "main".</summary>
    protected async Task StockedVoucher(string sku, long faceValue, long cost, IReadOnlyList<string> codes)
    {
        var define = await admin.PutAsJsonAsync($"/admin/catalog/products/{sku}", new
        {
            name = $"Voucher {sku}", brand = "Cinema", country = "DE", currency = "EUR", type = "voucher", faceValue, costAmount = cost,
        });
        define.StatusCode.Should().BeOneOf(HttpStatusCode.Created, HttpStatusCode.OK);
        (await admin.PostAsJsonAsync($"/admin/inventory/{sku}/main/receipts", new { receiptId = "r1", quantity = codes.Count, unitCost = cost, currency = "EUR", voucherCodes = codes }))
            .StatusCode.Should().Be(HttpStatusCode.Created);
        await Eventually.True(async () => await db.Scalar<long>($"select count(*) from read.stock_levels where sku = '{sku}'") == 1,
            TimeSpan.FromSeconds(30), "the stock level is projected (placement finds locations there)");
    }
}

/// <summary>The API's test clock as a <see cref="TimeProvider"/> for the signing client.</summary>
public sealed class ApiTime(TestClock clock) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => clock.UtcNow;
}
