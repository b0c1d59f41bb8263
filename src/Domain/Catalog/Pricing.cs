using Steller.Domain.Partners;

namespace Steller.Domain.Catalog;

/// <summary>Unit cost and partner unit price at one face value, in minor units of the product's currency.</summary>
public sealed record UnitPrice(long FaceValue, long UnitCost, long Price)
{
    /// <summary>The partner pays less than Steller pays: allowed ("allow all" policy), but flagged and counted.</summary>
    public bool IsNegativeMargin => Price < UnitCost;
    public long Margin => Price - UnitCost;
}

/// <summary>
/// Pure pricing. All amounts are integer minor units; percentages are basis points (1 bp = 0.01 %).
/// <para>
/// ONE rounding rule everywhere: when a division leaves a remainder, round in Steller's favour. Amounts Steller
/// receives or must budget for round UP (partner price, estimated cost); amounts Steller gives away round DOWN
/// (the vendor discount assumed, the partner's share of it). So:
/// </para>
/// <list type="bullet">
/// <item>cost of a discount product = face − floor(face × discountBp / 10000)</item>
/// <item>cost-plus price = ceil(cost × (10000 + bp) / 10000)</item>
/// <item>discount-share price = face − floor(max(face − cost, 0) × bp / 10000) (a negative discount shares nothing)</item>
/// <item>no margin set = the face value</item>
/// </list>
/// Intermediate products are computed in 128 bits, so no amount a <c>long</c> holds can overflow.
/// </summary>
public static class Pricing
{
    /// <summary>Null when <paramref name="faceValue"/> is offered; else <see cref="ProductErrors.FaceValueOutOfRange"/>.</summary>
    public static DomainError? CheckFaceValue(ProductDetails product, long faceValue) =>
        product.FixedFaceValue is { } f
            ? (faceValue == f ? null : ProductErrors.FaceValueOutOfRange)
            : (faceValue >= product.MinFaceValue && faceValue <= product.MaxFaceValue ? null : ProductErrors.FaceValueOutOfRange);

    /// <summary>Unit cost at <paramref name="faceValue"/>: the absolute amount, or face − floor(face × discountBp / 10000).</summary>
    public static long CostAt(ProductCost cost, long faceValue) => cost switch
    {
        { Amount: { } amount } => amount,
        { DiscountBasisPoints: { } bp } => faceValue - FloorDiv((Int128)faceValue * bp, 10_000),
        _ => throw new ArgumentException("A cost is an amount or a discount.", nameof(cost)),
    };

    /// <summary>The partner's unit price at <paramref name="faceValue"/> for a unit that costs <paramref name="unitCost"/>.</summary>
    public static long PriceFor(long faceValue, long unitCost, Margin? margin) => margin switch
    {
        null => faceValue,
        { Basis: MarginBasis.CostPlus } m => CeilDiv((Int128)unitCost * (10_000 + m.BasisPoints), 10_000),
        { Basis: MarginBasis.DiscountShare } m => faceValue - FloorDiv((Int128)Math.Max(faceValue - unitCost, 0) * m.BasisPoints, 10_000),
        _ => throw new ArgumentException($"Unknown margin basis '{margin.Basis}'.", nameof(margin)),
    };

    /// <summary>Cost and price at a requested face value, or <see cref="ProductErrors.FaceValueOutOfRange"/>.</summary>
    public static (UnitPrice? Price, DomainError? Error) At(ProductDetails product, ProductCost cost, Margin? margin, long faceValue)
    {
        if (CheckFaceValue(product, faceValue) is { } error) return (null, error);
        var unitCost = CostAt(cost, faceValue);
        return (new UnitPrice(faceValue, unitCost, PriceFor(faceValue, unitCost, margin)), null);
    }

    /// <summary>The face values a product is priced at for display and the guardrail: the fixed one, or min and max of a range.</summary>
    public static IReadOnlyList<long> ReferenceFaceValues(ProductDetails product) =>
        product.FixedFaceValue is { } f ? [f] : product.MinFaceValue == product.MaxFaceValue ? [product.MinFaceValue!.Value]
            : [product.MinFaceValue!.Value, product.MaxFaceValue!.Value];

    /// <summary>
    /// The reference price with the lowest margin (the fixed one, or the worse of min and max) when it is negative; else null.
    /// </summary>
    public static UnitPrice? WorstNegativeMargin(ProductDetails product, ProductCost cost, Margin? margin) =>
        ReferenceFaceValues(product).Select(face => At(product, cost, margin, face).Price!)
            .Where(p => p.IsNegativeMargin).OrderBy(p => p.Margin).FirstOrDefault();

    private static long FloorDiv(Int128 a, long b) => (long)(a >= 0 ? a / b : -((-a + b - 1) / b));
    private static long CeilDiv(Int128 a, long b) => (long)(a >= 0 ? (a + b - 1) / b : -(-a / b));
}
