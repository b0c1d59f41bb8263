using MediatR;

namespace Steller.Projections.Inventory.ListingLowStock;

/// <summary>
/// Stock items low right now from read.low_stock, ordered by sku and location; <paramref name="After"/> is the item the
/// previous page ended with.
/// </summary>
public sealed record ListLowStockRequest(int Limit, (string Sku, string Location)? After) : IRequest<LowStockPage>;

public sealed class ListLowStockHandler(StockMovementsQuery query) : IRequestHandler<ListLowStockRequest, LowStockPage>
{
    public Task<LowStockPage> Handle(ListLowStockRequest request, CancellationToken ct) => query.LowStock(request.Limit, request.After, ct);
}
