namespace Steller.Domain.Catalog;

/// <summary>Events of one product (stream "product-{sku}"). Flat on purpose: analysts read the JSON as it is.</summary>
public interface IProductEvent
{
    string Sku { get; }
}

/// <summary>
/// A product enters the catalog, or comes back after a delist (a relist is this same event again, with the
/// content it comes back with). <see cref="Source"/> is the vendor (e.g. "giftcard", "topup") or "stocked".
/// Face value: either <see cref="FixedFaceValue"/>, or the range <see cref="MinFaceValue"/>–<see cref="MaxFaceValue"/>.
/// Cost: either <see cref="CostAmount"/> (absolute, minor units, fixed products only) or
/// <see cref="CostDiscountBasisPoints"/> (a discount off the requested face value).
/// </summary>
[EventName("catalog.product-listed.v1")]
public sealed record ProductListed(
    string Sku, string Source, string? VendorProductId, string Name, string Brand, string Country, string Currency, string ProductType,
    long? FixedFaceValue, long? MinFaceValue, long? MaxFaceValue, long? CostAmount, int? CostDiscountBasisPoints, DateTimeOffset ListedAt)
        : IProductEvent;

/// <summary>
/// Details other than the cost changed on an active product (name, brand, country, currency, type, face value).
/// Carries the whole new set of details, so a reader never has to merge. A cost change travels separately as
/// <see cref="ProductCostChanged"/> (one listing command can produce both, updated first).
/// </summary>
[EventName("catalog.product-updated.v1")]
public sealed record ProductUpdated(
    string Sku, string Name, string Brand, string Country, string Currency, string ProductType,
    long? FixedFaceValue, long? MinFaceValue, long? MaxFaceValue, DateTimeOffset UpdatedAt) : IProductEvent;

/// <summary>The vendor cost changed: old and new, each either absolute or a discount in basis points.</summary>
[EventName("catalog.product-cost-changed.v1")]
public sealed record ProductCostChanged(
    string Sku, long? OldCostAmount, int? OldCostDiscountBasisPoints, long? NewCostAmount, int? NewCostDiscountBasisPoints,
        DateTimeOffset ChangedAt) : IProductEvent;

/// <summary>The product leaves the catalog (reason e.g. "missing_from_vendor", "admin"). It can be listed again later.</summary>
[EventName("catalog.product-delisted.v1")]
public sealed record ProductDelisted(string Sku, string Reason, DateTimeOffset DelistedAt) : IProductEvent;
