using FluentAssertions;
using NUnit.Framework;
using Steller.Domain.Catalog;

namespace Steller.Domain.Tests.Catalog;

public sealed class ProductTests : ProductSpec
{
    [Test]
    public void a_new_vendor_product_is_listed_with_all_its_details_and_cost() =>
        Given().When(new ListProduct(Sku, AmazonDe25, Cost2400, Now))
            .Then(Listed with { ListedAt = Now })
            .AndState(p => { p.Active.Should().BeTrue(); p.Cost.Should().Be(Cost2400); p.Details.Should().Be(AmazonDe25); });

    [Test]
    public void listing_the_same_content_again_is_already_done_and_appends_nothing() =>
        Given(Listed).When(new ListProduct(Sku, AmazonDe25, Cost2400, Now)).ThenNothingNew();

    [Test]
    public void listing_with_only_another_cost_is_a_cost_change_carrying_old_and_new() =>
        Given(Listed).When(new ListProduct(Sku, AmazonDe25, ProductCost.Absolute(23_50), Now))
            .Then(new ProductCostChanged(Sku, 24_00, null, 23_50, null, Now));

    [Test]
    public void listing_with_other_details_and_cost_is_an_update_followed_by_a_cost_change() =>
        Given(Listed).When(new ListProduct(Sku, AmazonDe25 with { Name = "Amazon 25" }, ProductCost.Discount(400), Now))
            .Then(new ProductUpdated(Sku, "Amazon 25", "Amazon", "DE", "EUR", ProductTypes.GiftCard, 25_00, null, null, Now),
                  new ProductCostChanged(Sku, 24_00, null, null, 400, Now))
            .AndState(p => { p.Details!.Name.Should().Be("Amazon 25"); p.Cost.Should().Be(ProductCost.Discount(400)); });

    [Test]
    public void changing_the_cost_to_the_same_cost_is_already_done_and_to_another_is_an_event()
    {
        Given(Listed).When(new ChangeCost(Cost2400, Now)).ThenNothingNew();
        Given(Listed).When(new ChangeCost(ProductCost.Absolute(24_10), Now)).Then(new ProductCostChanged(Sku, 24_00, null, 24_10, null, Now));
    }

    [Test]
    public void a_delisted_product_is_inactive_and_listing_it_again_relists_it()
    {
        Given(Listed).When(new DelistProduct("missing_from_vendor", Now)).Then(new ProductDelisted(Sku, "missing_from_vendor", Now))
            .AndState(p => p.Active.Should().BeFalse());
        Given(Listed, new ProductDelisted(Sku, "admin", Now)).When(new ListProduct(Sku, AmazonDe25, Cost2400, Now))
            .Then(Listed with { ListedAt = Now })
            .AndState(p => p.Active.Should().BeTrue());
    }

    [Test]
    public void delisting_twice_is_a_no_op_and_an_unknown_product_cannot_be_delisted_or_recosted()
    {
        Given(Listed, new ProductDelisted(Sku, "admin", Now)).When(new DelistProduct("admin", Now)).ThenNothingNew();
        Given().When(new DelistProduct("admin", Now)).ThenFails(ProductErrors.UnknownSku);
        Given().When(new ChangeCost(Cost2400, Now)).ThenFails(ProductErrors.UnknownSku);
        Given(Listed, new ProductDelisted(Sku, "admin", Now)).When(new ChangeCost(Cost2400, Now)).ThenFails(ProductErrors.Delisted);
    }

    [Test]
    public void a_sku_never_changes_its_source_or_vendor_product_id()
    {
        Given(Listed).When(new ListProduct(Sku, AmazonDe25 with { VendorProductId = "OTHER" }, Cost2400, Now)).ThenFails(ProductErrors.SourceConflict);
        Given(Listed).When(new ListProduct(Sku, AmazonDe25 with { Source = "stocked", VendorProductId = null }, Cost2400, Now)).ThenFails(ProductErrors.SourceConflict);
    }

    [Test]
    public void invalid_products_are_refused_with_the_rule_they_break()
    {
        Given().When(new ListProduct("Bad_Sku", AmazonDe25, Cost2400, Now)).ThenFails(ProductErrors.InvalidSku);
        Given().When(new ListProduct(Sku, AmazonDe25 with { Country = "de" }, Cost2400, Now)).ThenFails(ProductErrors.InvalidCountry);
        Given().When(new ListProduct(Sku, AmazonDe25 with { ProductType = "book" }, Cost2400, Now)).ThenFails(ProductErrors.InvalidProductType);
        Given().When(new ListProduct(Sku, AmazonDe25 with { FixedFaceValue = null, MinFaceValue = 50_00, MaxFaceValue = 10_00 }, ProductCost.Discount(100), Now))
            .ThenFails(ProductErrors.InvalidFaceValue);
        Given().When(new ListProduct(Sku, AmazonDe25 with { MinFaceValue = 1 }, Cost2400, Now)).ThenFails(ProductErrors.InvalidFaceValue);
        Given().When(new ListProduct(Sku, AmazonDe25, new ProductCost(24_00, 100), Now)).ThenFails(ProductErrors.InvalidCost);
        Given().When(new ListProduct(Sku, AmazonDe25, ProductCost.Discount(10_001), Now)).ThenFails(ProductErrors.InvalidCost);
        Given().When(new ListProduct(Sku, AmazonDe25 with { FixedFaceValue = null, MinFaceValue = 5_00, MaxFaceValue = 50_00 }, Cost2400, Now))
            .ThenFails(ProductErrors.InvalidCost); // a range needs a discount, not one absolute cost
        Given().When(new ListProduct(Sku, AmazonDe25 with { Source = "stocked" }, Cost2400, Now)).ThenFails(ProductErrors.InvalidSource);
    }
}
