using Steller.Domain;
using Steller.Domain.Orders;

namespace Steller.Application.Orders;

/// <summary>
/// Prices one requested line for one partner: the catalog's product, the partner's margin rule. Either a pricing
/// with its currency, or a domain error (unknown_sku, product_delisted, face_value_out_of_range, ...).
/// </summary>
public interface IOrderPricing
{
    Task<LineQuote> Quote(string partnerId, string sku, long faceValue, int quantity, CancellationToken ct = default);
}

public sealed record LineQuote(LinePricing? Pricing, string? Currency, DomainError? Error);

/// <summary>
/// Where a stocked sku is kept: every location that ever held it, in a fixed order (so a retried placement tries the same place first).
/// </summary>
public interface IStockLocations
{
    Task<IReadOnlyList<string>> LocationsOf(string sku, CancellationToken ct = default);
}
