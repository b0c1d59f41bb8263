using System.Net.Http.Json;
using System.Text.Json;
using FluentAssertions;
using NUnit.Framework;
using Steller.Application.Orders;
using Steller.Application.Serialization;
using Steller.Client;
using Steller.Domain.Catalog;
using Steller.Domain.Orders;
using Steller.Testing;

namespace Steller.Cli.Tests.Orders;

/// <summary>The API process dies (SIGKILL) right after a vendor accepted a purchase, before anything about it was recorded.</summary>
public sealed class FulfilmentCrashTests
{
    [Test, CancelAfter(240_000)]
    public async Task an_order_killed_after_vendor_submission_completes_after_restart_with_one_vendor_order_and_one_charge()
    {
        await using var sim = await SimulatorHost.Start();
        await using var db = await TestDatabase.Create("orderkill");
        var env = new Dictionary<string, string?>
        {
            ["STELLER__Database__ConnectionString"] = db.ConnectionString,
            ["STELLER__Security__MasterKey"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)),
            ["STELLER__Orders__PollIntervalMilliseconds"] = "200",
        };
        foreach (var (key, value) in sim.StellerSettings()) env["STELLER__" + key.Replace(":", "__")] = value;
        // The vendor takes a while: the first answer is "processing", so the order is still open when the process dies.
        await sim.Script(new { vendor = "giftcard", operation = "checkout", action = "slow", polls = 2 });
        const string partnerId = "kill-buyer";
        var sku = Skus.ForVendorProduct("giftcard", "101"); // Amazon.de 25 EUR

        var crashing = await StellerProcess.StartApi(new Dictionary<string, string?>(env) { ["STELLER_CRASH_AT"] = "vendor-submitted" });
        string orderId;
        using (crashing.Process)
        {
            using var http = new HttpClient { BaseAddress = crashing.Url };
            await Admin.Authorize(http, db);
            (await http.PostAsync("/admin/catalog/sync", null)).EnsureSuccessStatusCode();
            using var partner = await Onboard(http, partnerId, 100_00);
            orderId = Order.IdFor(partnerId, "kill-1");
            try { (await partner.PlaceOrder("kill-1", [new NewOrderLine(sku, 2, 25_00)])).OrderId.Should().Be(orderId); }
            catch (HttpRequestException) { } // the process may die before the 202 leaves; the order is placed either way
            await Eventually.True(() => Task.FromResult(crashing.Process.HasExited), TimeSpan.FromSeconds(30), "the API dies at the crash point");
        }

        // The crash hit the window: the vendor has the purchase, the order only knows it started.
        (await sim.Orders("giftcard")).Should().ContainSingle();
        var registry = EventTypeRegistry.ForDomain();
        async Task<List<IOrderEvent>> Events() => (await db.CreateEventStore().ReadStream(Order.StreamName(orderId))).Events
            .Select(e => (IOrderEvent)registry.Deserialize(e.Type, e.Data.Span)!).ToList();
        (await Events()).OfType<OrderSubmittedToVendor>().Should().ContainSingle();
        (await Events()).OfType<OrderFulfilled>().Should().BeEmpty();

        var restarted = await StellerProcess.StartApi(env);
        using (restarted.Process)
        {
            using var http = new HttpClient { BaseAddress = restarted.Url };
            await Admin.Authorize(http, db);
            await Eventually.True(async () => (await Events()).OfType<OrderCompleted>().Any(), TimeSpan.FromSeconds(90), "the order completes after the restart");

            (await sim.Orders("giftcard")).Should().ContainSingle("the resubmission met the first purchase, never a second one");
            (await sim.Requests("giftcard", "checkout")).Should().ContainSingle(
                "after the restart Steller asked the vendor about the request id instead of submitting it again");
            var completed = (await Events()).OfType<OrderCompleted>().Single();
            completed.Captured.Should().Be(50_00);
            var wallet = await http.GetFromJsonAsync<JsonElement>($"/admin/partners/{partnerId}/wallets/EUR");
            (wallet.GetProperty("posted").GetInt64(), wallet.GetProperty("pending").GetInt64()).Should().Be((100_00 - 50_00, 0L), "charged once");
            await Eventually.True(async () =>
            {
                using var audit = await StellerProcess.RunToEnd(StellerProcess.Cli(env, "ledger", "audit"));
                return audit.ExitCode == 0;
            }, TimeSpan.FromSeconds(60), "steller ledger audit exits 0");
        }
    }

    private static async Task<StellerClient> Onboard(HttpClient admin, string id, long funds)
    {
        (await admin.PostAsJsonAsync("/admin/partners", new { partnerId = id, name = id, contactEmail = $"ops@{id}.test" })).EnsureSuccessStatusCode();
        (await admin.PostAsJsonAsync($"/admin/partners/{id}/wallets", new { currency = "EUR" })).EnsureSuccessStatusCode();
        var deposit = new HttpRequestMessage(HttpMethod.Post, $"/admin/partners/{id}/wallets/EUR/deposits") { Content = JsonContent.Create(new { amount = funds, reference = "seed" }) };
        deposit.Headers.Add("Idempotency-Key", $"seed-{id}");
        (await admin.SendAsync(deposit)).EnsureSuccessStatusCode();
        var key = await (await admin.PostAsync($"/admin/partners/{id}/api-keys", null)).Content.ReadFromJsonAsync<JsonElement>();
        return StellerClient.Create(admin.BaseAddress!, key.GetProperty("keyId").GetString()!, key.GetProperty("secret").GetString()!);
    }
}
