using Steller.Domain.Catalog;
using Steller.Application.Commands;
using System.Runtime.CompilerServices;
using FluentAssertions;
using Microsoft.Extensions.DependencyInjection;
using NUnit.Framework;
using Steller.Application.Catalog;
using Steller.Application.Vendors;
using Steller.Testing;

namespace Steller.Api.Tests.Catalog;

/// <summary>
/// The catalog sync against the real event store and read models. The vendor here is an in-test IVendorCatalog:
/// the HTTP adapters and the vendor simulator are being built in parallel; a simulator-backed test follows once
/// they are merged.
/// </summary>
public sealed class CatalogSyncTests() : AdminApiFixture("catalogsync")
{
    private const string Vendor = "giftcard";

    private static VendorProduct Card(string id, long face = 25_00, long? cost = 24_00, int? discountBp = null) =>
        new(Vendor, id, $"Card {id}", "Zalando", "DE", "EUR", "gift_card", face, null, null, cost, discountBp);

    private static VendorProduct Range(string id, int discountBp) =>
        new(Vendor, id, $"Range {id}", "Zalando", "DE", "EUR", "gift_card", null, 10_00, 200_00, null, discountBp);

    [Test, CancelAfter(90_000)]
    public async Task a_sync_appends_listed_cost_changed_and_delisted_only_for_real_changes_and_an_identical_sync_appends_nothing()
    {
        var sync = factory.Services.GetRequiredService<CatalogSync>();
        var vendor = new InTestCatalog(Vendor, [Card("ZAL-25"), Card("zal-50", face: 50_00, cost: 47_00), Range("ZAL-FLEX", 450)]);

        var first = await sync.Run(vendor, CancellationToken.None);
        first.Should().BeEquivalentTo(new { Complete = true, Read = 3, Listed = 3, CostChanged = 0, Delisted = 0, Updated = 0, Skipped = 0 });
        var afterFirst = await ProductEvents();
        afterFirst.Should().Be(3);

        (await sync.Run(vendor, CancellationToken.None)).Changed.Should().Be(0);
        (await ProductEvents()).Should().Be(afterFirst, "an unchanged catalog appends nothing");

        // Delists start from read.catalog_products: let it see the three products.
        await Eventually.True(async () => await db.Scalar<long>($"select count(*) from read.catalog_products where source = '{Vendor}' and active") == 3,
            TimeSpan.FromSeconds(30), "read.catalog_products holds the vendor's three products");

        vendor.Products = [Card("ZAL-25", cost: 23_50), Range("ZAL-FLEX", 450), Card("ZAL-100", face: 100_00, cost: 95_00)];
        var second = await sync.Run(vendor, CancellationToken.None);
        second.Should().BeEquivalentTo(new { Complete = true, Listed = 1, CostChanged = 1, Delisted = 1, Updated = 0 });
        (await ProductEvents()).Should().Be(afterFirst + 3);
        (await sync.Run(vendor, CancellationToken.None)).Changed.Should().Be(0, "the second identical sync appends nothing");
        (await ProductEvents()).Should().Be(afterFirst + 3);

        var products = factory.Services.GetRequiredService<AggregateCommands<Product, IProductCommand, IProductEvent>>();
        (await products.Load(Product.StreamName("giftcard-zal-50"))).State.Active.Should().BeFalse("missing from the vendor: delisted");
        var renamed = Steller.Domain.Catalog.Skus.ForVendorProduct(Vendor, "ZAL-25");
        (await products.Load(Product.StreamName(renamed))).State.Cost!.Amount.Should().Be(23_50);
        (await db.Scalar<long>($"select count(*) from es.events where stream_id = 'product-{renamed}' and event_type = 'catalog.product-cost-changed.v1'")).Should().Be(1);
    }

    [Test, CancelAfter(90_000)]
    public async Task a_vendor_failing_mid_catalog_delists_nothing_on_that_run()
    {
        var sync = factory.Services.GetRequiredService<CatalogSync>();
        var vendor = new InTestCatalog("topup", [new("topup", "OP-1", "Operator 1", "Vodafone", "DE", "EUR", "top_up", null, 5_00, 50_00, null, 300),
            new("topup", "OP-2", "Operator 2", "O2", "DE", "EUR", "top_up", null, 5_00, 50_00, null, 300)]);
        (await sync.Run(vendor, CancellationToken.None)).Listed.Should().Be(2);
        await Eventually.True(async () => await db.Scalar<long>("select count(*) from read.catalog_products where source = 'topup' and active") == 2,
            TimeSpan.FromSeconds(30), "read.catalog_products holds both top-ups");

        vendor.FailAfter = 1; // OP-1 with a new discount arrives, then the vendor goes away
        vendor.Products = [vendor.Products[0] with { DiscountBasisPoints = 350 }, vendor.Products[1]];
        var partial = await sync.Run(vendor, CancellationToken.None);

        partial.Should().BeEquivalentTo(new { Complete = false, Read = 1, CostChanged = 1, Delisted = 0 });
        partial.Error.Should().Contain("timeout");
        var products = factory.Services.GetRequiredService<AggregateCommands<Product, IProductCommand, IProductEvent>>();
        (await products.Load(Product.StreamName(Steller.Domain.Catalog.Skus.ForVendorProduct("topup", "OP-2")))).State.Active.Should().BeTrue("a partial catalog must not delist");
        factory.Logs.Lines.Should().Contain(l => l.Contains("nothing is delisted on this run"));

        vendor.FailAfter = null;
        vendor.Products = [vendor.Products[0]];
        (await sync.Run(vendor, CancellationToken.None)).Delisted.Should().Be(1, "the next complete catalog does delist what is gone");
    }

    private async Task<long> ProductEvents() => await db.Scalar<long>($"select count(*) from es.events where stream_id like 'product-{Vendor}-%'");

    /// <summary>A vendor catalog in memory: yields <see cref="Products"/>, or fails after <see cref="FailAfter"/> of them like a vendor timing out.</summary>
    private sealed class InTestCatalog(string vendor, List<VendorProduct> products) : IVendorCatalog
    {
        public List<VendorProduct> Products { get; set; } = products;
        public int? FailAfter { get; set; }
        public string Vendor => vendor;

        public async IAsyncEnumerable<VendorProduct> ReadCatalog([EnumeratorCancellation] CancellationToken ct = default)
        {
            for (var i = 0; i < Products.Count; i++)
            {
                if (i == FailAfter) throw new VendorUnavailableException(vendor, "timeout after 3 retries");
                await Task.Yield();
                yield return Products[i];
            }
        }
    }
}
