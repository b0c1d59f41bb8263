using FluentAssertions;
using NUnit.Framework;
using Steller.Domain.Catalog;
using Steller.Domain.Partners;

namespace Steller.Domain.Tests.Catalog;

/// <summary>Pricing in minor units with one rounding rule: every remainder goes in Steller's favour.</summary>
public sealed class PricingTests
{
    private static readonly ProductDetails Fixed25 = new("stocked", null, "V", "B", "DE", "EUR", ProductTypes.Voucher, 25_00, null, null);
    private static readonly ProductDetails Range5To100 = Fixed25 with { FixedFaceValue = null, MinFaceValue = 5_00, MaxFaceValue = 100_00 };

    [TestCase(10_000L, 1_000, 9_000L, TestName = "a 10% discount off 100.00 costs exactly 90.00")]
    [TestCase(999L, 250, 975L, TestName = "a 2.5% discount off 9.99 (24.975) is floored to 24, so the cost is 9.75")]
    [TestCase(1L, 9_999, 1L, TestName = "a 99.99% discount off one cent rounds the discount down to 0")]
    [TestCase(2_500L, 0, 2_500L, TestName = "no discount costs the face value")]
    [TestCase(2_500L, 10_000, 0L, TestName = "a 100% discount costs nothing")]
    public void the_cost_of_a_discount_product_is_face_minus_the_floored_discount(long face, int discountBp, long expected) =>
        Pricing.CostAt(ProductCost.Discount(discountBp), face).Should().Be(expected);

    [TestCase(2_400L, 500, 2_520L, TestName = "cost-plus 5% on 24.00 is exactly 25.20")]
    [TestCase(999L, 150, 1_014L, TestName = "cost-plus 1.5% on 9.99 (10.13985) is rounded up to 10.14")]
    [TestCase(1L, 1, 2L, TestName = "cost-plus 0.01% on one cent rounds up to two cents")]
    [TestCase(2_400L, 0, 2_400L, TestName = "cost-plus 0 bp is the cost")]
    [TestCase(0L, 500, 0L, TestName = "cost-plus on a free unit is free")]
    public void cost_plus_is_cost_times_one_plus_bp_rounded_up(long cost, int bp, long expected) =>
        Pricing.PriceFor(faceValue: 25_00, cost, new Margin(MarginBasis.CostPlus, bp)).Should().Be(expected);

    [TestCase(2_500L, 2_400L, 5_000, 2_450L, TestName = "half of a 1.00 discount back: 24.50")]
    [TestCase(2_500L, 2_401L, 5_000, 2_451L, TestName = "half of 99 cents (49.5) is floored to 49: 24.51")]
    [TestCase(2_500L, 2_400L, 10_000, 2_400L, TestName = "the whole discount back: the price is the cost")]
    [TestCase(2_500L, 2_400L, 0, 2_500L, TestName = "no share: the face value")]
    [TestCase(2_500L, 2_600L, 5_000, 2_500L, TestName = "a cost above face shares nothing: the face value")]
    public void discount_share_gives_the_partner_the_floored_share_of_the_vendor_discount(long face, long cost, int bp, long expected) =>
        Pricing.PriceFor(face, cost, new Margin(MarginBasis.DiscountShare, bp)).Should().Be(expected);

    [Test]
    public void without_a_margin_the_partner_pays_the_face_value() =>
        Pricing.PriceFor(25_00, 24_00, null).Should().Be(25_00);

    [Test]
    public void a_price_below_cost_is_allowed_but_flagged_as_negative_margin()
    {
        var (price, error) = Pricing.At(Fixed25, ProductCost.Absolute(26_00), null, 25_00);
        error.Should().BeNull();
        price!.Price.Should().Be(25_00);
        price.IsNegativeMargin.Should().BeTrue();
        price.Margin.Should().Be(-1_00);
        Pricing.At(Fixed25, ProductCost.Absolute(24_00), null, 25_00).Price!.IsNegativeMargin.Should().BeFalse();
    }

    [Test]
    public void a_fixed_product_takes_exactly_its_face_value_and_a_range_product_one_within_min_and_max()
    {
        Pricing.At(Fixed25, ProductCost.Absolute(24_00), null, 25_01).Error.Should().Be(ProductErrors.FaceValueOutOfRange);
        Pricing.At(Range5To100, ProductCost.Discount(500), null, 4_99).Error.Should().Be(ProductErrors.FaceValueOutOfRange);
        Pricing.At(Range5To100, ProductCost.Discount(500), null, 100_01).Error.Should().Be(ProductErrors.FaceValueOutOfRange);
        Pricing.At(Range5To100, ProductCost.Discount(500), null, 5_00).Error.Should().BeNull();
        Pricing.At(Range5To100, ProductCost.Discount(500), null, 100_00).Error.Should().BeNull();
    }

    [Test]
    public void a_range_product_is_costed_and_priced_per_requested_face_value()
    {
        var margin = new Margin(MarginBasis.DiscountShare, 5_000);
        var at33 = Pricing.At(Range5To100, ProductCost.Discount(300), margin, 33_33).Price!;
        at33.UnitCost.Should().Be(33_33 - 99, "3% of 33.33 is 99.99 cents, floored to 99");
        at33.Price.Should().Be(33_33 - 49, "half of 99 cents is 49.5, floored to 49");
        var at100 = Pricing.At(Range5To100, ProductCost.Discount(300), margin, 100_00).Price!;
        (at100.UnitCost, at100.Price).Should().Be((97_00L, 98_50L));
    }

    [Test]
    public void the_guardrail_reports_the_worse_end_of_a_range()
    {
        // cost-plus 0 bp on a 5% discount is never negative; a discount-share of 100% neither; only a price under cost is.
        Pricing.WorstNegativeMargin(Range5To100, ProductCost.Discount(500), new Margin(MarginBasis.CostPlus, 0)).Should().BeNull();
        // 0% discount: cost = face; no margin → price = face: not negative. A "cost" above face at a fixed product is.
        var worst = Pricing.WorstNegativeMargin(Fixed25, ProductCost.Absolute(30_00), new Margin(MarginBasis.DiscountShare, 5_000));
        worst.Should().Be(new UnitPrice(25_00, 30_00, 25_00));
    }

    [Test]
    public void huge_amounts_do_not_overflow_the_intermediate_products() =>
        Pricing.PriceFor(long.MaxValue / 2, long.MaxValue / 4, new Margin(MarginBasis.CostPlus, 10_000)).Should().Be(long.MaxValue / 4 * 2);
}
