using Steller.Application.Vendors;
using Steller.VendorSimulator;

namespace Steller.Vendors.Tests;

public sealed class CatalogTests : VendorTest
{
    protected override IDictionary<string, string?> AdapterSettings => new Dictionary<string, string?> { ["Vendors:GiftCard:CatalogPageSize"] = "2" };

    [Test]
    public async Task the_gift_card_catalog_is_read_across_every_page_and_every_product_arrives_once()
    {
        var products = await Steller.GiftCard.ReadCatalog().ToListAsync();

        var seeded = GiftCardVendor.Catalog.SelectMany(b => b.Products).Select(p => p.Id.ToString()).ToList();
        products.Select(p => p.VendorProductId).Should().BeEquivalentTo(seeded).And.OnlyHaveUniqueItems();
        // 9 brands, 2 per page: pages 0..4.
        (await Sim.Requests(VendorKinds.GiftCard, "catalog")).Should().HaveCount(5).And.OnlyContain(r => r.Status == 200);
        ((RecordingObserver)Steller.Observer).Syncs.Should().ContainSingle().Which.Should().Be((VendorKinds.GiftCard, seeded.Count));
    }

    [Test]
    public async Task gift_card_products_arrive_in_minor_units_fixed_ones_with_an_absolute_cost_rounded_up_and_ranges_with_a_discount_rounded_down()
    {
        var products = (await Steller.GiftCard.ReadCatalog().ToListAsync()).ToDictionary(p => p.VendorProductId);

        products["101"].Should().BeEquivalentTo(new VendorProduct(VendorKinds.GiftCard, "101", "Amazon.de 25 EUR", "Amazon.de", "DE", "EUR", "gift_card",
            FixedFaceValue: 25_00, MinFaceValue: null, MaxFaceValue: null, CostAmount: 24_00, DiscountBasisPoints: null));
        // 14.2501 EUR and 14.555 GBP cost one more minor unit, never less.
        products["301"].CostAmount.Should().Be(14_26);
        products["801"].CostAmount.Should().Be(14_56);
        products["801"].Currency.Should().Be("GBP");
        // JPY has no minor unit.
        products["901"].Should().Match<VendorProduct>(p => p.FixedFaceValue == 3000 && p.CostAmount == 2910 && p.Currency == "JPY");
        // Range 5..500 EUR priced 4.85..485.00: 3 % off.
        products["103"].Should().Match<VendorProduct>(p => p.FixedFaceValue == null && p.MinFaceValue == 5_00 && p.MaxFaceValue == 500_00
                                                             && p.CostAmount == null && p.DiscountBasisPoints == 300);
        products["702"].DiscountBasisPoints.Should().Be(400);
        products["501"].Should().Match<VendorProduct>(p => p.MinFaceValue == 10_00 && p.MaxFaceValue == 500_00 && p.Currency == "USD" && p.Country == "US");
    }

    [Test]
    public async Task the_top_up_catalog_lists_every_product_with_its_operator_country_and_commission_as_a_discount()
    {
        var products = (await Steller.TopUp.ReadCatalog().ToListAsync()).ToDictionary(p => p.VendorProductId);

        products.Keys.Should().BeEquivalentTo(TopUpVendor.Products.Select(p => p.SkuCode));
        products["ORFR-10EUR"].Should().BeEquivalentTo(new VendorProduct(VendorKinds.TopUp, "ORFR-10EUR", "Orange 10 EUR", "Orange France", "FR", "EUR", "top_up",
            FixedFaceValue: 10_00, MinFaceValue: null, MaxFaceValue: null, CostAmount: null, DiscountBasisPoints: 450));
        products["ORFR-OPEN-EUR"].Should().Match<VendorProduct>(p => p.FixedFaceValue == null && p.MinFaceValue == 5_00 && p.MaxFaceValue == 50_00 && p.DiscountBasisPoints == 325);
        // 6.125 % is 612.5 bp: rounded down, so the cost is never under-stated.
        products["AIIN-OPEN-EUR"].DiscountBasisPoints.Should().Be(612);
        products["AIIN-OPEN-EUR"].Country.Should().Be("IN");
        products["EEGB-10GBP"].Should().Match<VendorProduct>(p => p.Currency == "GBP" && p.FixedFaceValue == 10_00 && p.DiscountBasisPoints == 0);
        ((RecordingObserver)Steller.Observer).Syncs.Should().ContainSingle().Which.Should().Be((VendorKinds.TopUp, TopUpVendor.Products.Count));
    }

    [Test]
    public async Task the_top_up_catalog_can_be_limited_to_some_countries()
    {
        await using var frOnly = new Adapters(Sim, overrides: new Dictionary<string, string?> { ["Vendors:TopUp:Countries"] = "FR,GB" });

        var products = await frOnly.TopUp.ReadCatalog().ToListAsync();

        products.Select(p => p.Country).Distinct().Should().BeEquivalentTo(["FR", "GB"]);
        products.Should().HaveCount(3);
    }
}

public sealed class VendorMoneyTests
{
    [TestCase(14.555, "GBP", 1456)]
    [TestCase(14.2501, "EUR", 1426)]
    [TestCase(14.55, "EUR", 1455)]
    [TestCase(2909.2, "JPY", 2910)]
    [TestCase(1.2341, "KWD", 1235)]
    public void a_cost_rounds_up_to_the_next_minor_unit_of_its_currency(decimal major, string currency, long minor) =>
        VendorMoney.CostToMinor(major, currency).Should().Be(minor);

    [Test]
    public void a_discount_rounds_down_to_whole_basis_points() =>
        VendorMoney.DiscountToBasisPoints(0.031259m).Should().Be(312);

    [Test]
    public void a_face_value_range_only_shrinks_and_a_fixed_face_value_must_be_exact()
    {
        VendorMoney.MinimumToMinor(4.995m, "EUR").Should().Be(500);
        VendorMoney.MaximumToMinor(499.999m, "EUR").Should().Be(49_999);
        VendorMoney.ExactToMinor(25m, "EUR").Should().Be(2500);
        VendorMoney.ExactToMinor(25.005m, "EUR").Should().BeNull();
        VendorMoney.ToMajor(1234, "KWD").Should().Be(1.234m);
    }
}
