using Steller.Application.Catalog;
using Steller.Domain.Orders;

namespace Steller.Application.Orders;

/// <summary>Order lines are priced by the catalog: the live product and the partner's live margin rule (see docs/catalog.md).</summary>
public sealed class CatalogPricing(CatalogQuotes quotes) : IOrderPricing
{
    public async Task<LineQuote> Quote(string partnerId, string sku, long faceValue, int quantity, CancellationToken ct = default)
    {
        var result = await quotes.Quote(partnerId, sku, faceValue, quantity, ct);
        if (result.Quote is not { } q) return new LineQuote(null, null, result.Error);
        return new LineQuote(new LinePricing(q.UnitPrice, q.UnitCost, q.ProductType, q.Source, q.VendorProductId, q.IsNegativeMargin),
            q.Currency, null);
    }
}
