using FluentAssertions;
using NUnit.Framework;
using Steller.Domain.Catalog;

namespace Steller.Domain.Tests.Catalog;

public sealed class CatalogDiffTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);
    private static readonly ProductDetails A = new("giftcard", "A", "Card A", "Brand", "DE", "EUR", ProductTypes.GiftCard, 10_00, null, null);
    private static readonly ProductDetails B = A with { VendorProductId = "B", Name = "Card B" };
    private static readonly ProductDetails C = A with { VendorProductId = "C", Name = "Card C" };
    private static readonly ProductCost Cost = ProductCost.Absolute(9_00);

    [Test]
    public void an_unchanged_catalog_gives_no_commands() =>
        CatalogDiff.Changes([new CurrentProduct("giftcard-a", A, Cost, true)], [new VendorListing("giftcard-a", A, Cost)], true, Now).Should().BeEmpty();

    [Test]
    public void new_products_are_listed_changed_costs_recosted_changed_details_relisted_and_missing_ones_delisted()
    {
        var changes = CatalogDiff.Changes(
            current: [new CurrentProduct("giftcard-a", A, Cost, true), new CurrentProduct("giftcard-b", B, Cost, true), new CurrentProduct("giftcard-c", C, Cost, true)],
            fromVendor: [new VendorListing("giftcard-a", A, ProductCost.Absolute(8_50)), new VendorListing("giftcard-b", B with { Name = "New B" }, Cost), new VendorListing("giftcard-d", A with { VendorProductId = "D" }, Cost)],
            vendorCatalogComplete: true, Now);

        changes.Should().BeEquivalentTo(new CatalogChange[]
        {
            new("giftcard-a", new ChangeCost(ProductCost.Absolute(8_50), Now)),
            new("giftcard-b", new ListProduct("giftcard-b", B with { Name = "New B" }, Cost, Now)),
            new("giftcard-d", new ListProduct("giftcard-d", A with { VendorProductId = "D" }, Cost, Now)),
            new("giftcard-c", new DelistProduct(CatalogDiff.MissingFromVendor, Now)),
        }, o => o.RespectingRuntimeTypes().WithStrictOrdering());
    }

    [Test]
    public void a_partial_vendor_catalog_never_delists_anything()
    {
        var changes = CatalogDiff.Changes([new CurrentProduct("giftcard-a", A, Cost, true), new CurrentProduct("giftcard-b", B, Cost, true)],
            [new VendorListing("giftcard-a", A, ProductCost.Absolute(8_00))], vendorCatalogComplete: false, Now);
        changes.Should().ContainSingle().Which.Command.Should().BeOfType<ChangeCost>();
    }

    [Test]
    public void a_delisted_product_back_at_the_vendor_is_listed_again_and_an_already_delisted_one_is_not_delisted_twice()
    {
        CatalogDiff.Changes([new CurrentProduct("giftcard-a", A, Cost, false)], [new VendorListing("giftcard-a", A, Cost)], true, Now)
            .Should().ContainSingle().Which.Command.Should().BeOfType<ListProduct>();
        CatalogDiff.Changes([new CurrentProduct("giftcard-a", A, Cost, false)], [], true, Now).Should().BeEmpty();
    }
}
