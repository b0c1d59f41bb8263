using System.Net.Http.Json;
using FluentAssertions;
using NUnit.Framework;
using Steller.Application.Inventory;
using Steller.Application.Serialization;
using Steller.Domain.Inventory;
using Steller.Testing;

namespace Steller.Cli.Tests.Inventory;

/// <summary>The API process dies (SIGKILL) between the two halves of a stock transfer; after a restart the move completes, once.</summary>
public sealed class StockTransferCrashTests
{
    [Test, CancelAfter(180_000)]
    public async Task a_transfer_killed_between_its_out_and_its_in_is_completed_after_restart_and_totals_are_unchanged()
    {
        await using var db = await TestDatabase.Create("stockkill");
        var env = new Dictionary<string, string?>
        {
            ["STELLER__Database__ConnectionString"] = db.ConnectionString,
            ["STELLER__Security__MasterKey"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)),
        };
        const string sku = "crash-voucher";
        var codes = Enumerable.Range(1, 10).Select(i => $"KILL-CODE-{i}-{Guid.NewGuid():N}").ToList();

        // First life: armed to die right after the sending half is written.
        var crashing = await StellerProcess.StartApi(new Dictionary<string, string?>(env) { ["STELLER_CRASH_AT"] = "stock-transfer-out" });
        using (crashing.Process)
        {
            using var http = new HttpClient { BaseAddress = crashing.Url };
            await Admin.Authorize(http, db);
            (await http.PostAsJsonAsync($"/admin/inventory/{sku}/main/receipts", new { receiptId = "r1", quantity = 10, unitCost = 2_00, currency = "EUR", voucherCodes = codes }))
                .EnsureSuccessStatusCode();
            var move = () => http.PostAsJsonAsync($"/admin/inventory/{sku}/main/transfers", new { transferId = "t1", toLocation = "shop", quantity = 4 });
            await move.Should().ThrowAsync<HttpRequestException>("the process dies before it can answer");
            await Eventually.True(() => Task.FromResult(crashing.Process.HasExited), TimeSpan.FromSeconds(10), "the API process is dead");
        }

        // The crash hit the window: the units left main and have not reached shop.
        var store = db.CreateEventStore();
        var registry = EventTypeRegistry.ForDomain();
        async Task<List<IStockEvent>> Events(string location) => (await store.ReadStream(Stock.StreamName(sku, location))).Events
            .Select(e => (IStockEvent)registry.Deserialize(e.Type, e.Data.Span)!).ToList();
        (await Events("main")).OfType<StockTransferredOut>().Should().ContainSingle();
        (await Events("shop")).Should().BeEmpty("the receiving half was never written");

        // Second life, unarmed: the completion process finishes the move by itself.
        var restarted = await StellerProcess.StartApi(env);
        using (restarted.Process)
        {
            await Eventually.True(async () => (await Events("shop")).OfType<StockTransferredIn>().Any(), TimeSpan.FromSeconds(60), "the transfer is completed after the restart");
            var main = (await Events("main")).Aggregate(Stock.Empty, Stock.Evolve);
            var shop = (await Events("shop")).Aggregate(Stock.Empty, Stock.Evolve);
            (await Events("shop")).OfType<StockTransferredIn>().Should().ContainSingle("completed once, not twice");
            (main.OnHand, shop.OnHand).Should().Be((6, 4));
            (main.Vouchers.Count + shop.Vouchers.Count).Should().Be(10, "every code is somewhere, exactly once");
            shop.Vouchers.Select(v => v.VoucherId).Should().Equal("main/r1/1", "main/r1/2", "main/r1/3", "main/r1/4");

            // Repeating the interrupted request now is a harmless no-op.
            using var http = new HttpClient { BaseAddress = restarted.Url };
            await Admin.Authorize(http, db);
            (await http.PostAsJsonAsync($"/admin/inventory/{sku}/main/transfers", new { transferId = "t1", toLocation = "shop", quantity = 4 }))
                .StatusCode.Should().Be(System.Net.HttpStatusCode.OK);
            (await Events("shop")).OfType<StockTransferredIn>().Should().ContainSingle();

            await Eventually.True(async () =>
            {
                using var audit = await StellerProcess.RunToEnd(StellerProcess.Cli(env, "stock", "audit"));
                return audit.ExitCode == 0;
            }, TimeSpan.FromSeconds(60), "steller stock audit exits 0 (read model agrees with the fold)");
        }
    }
}
