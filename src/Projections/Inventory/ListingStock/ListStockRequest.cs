using MediatR;
using Steller.Application.Inventory;
using Steller.Application.Pipeline;
using Steller.Domain.Inventory;

namespace Steller.Projections.Inventory.ListingStock;

/// <summary>
/// A page of read.stock_levels (eventually consistent), filtered by sku, location and <paramref name="Low"/> ("true" or
/// "false"); <paramref name="After"/> is the (sku, location) the previous page ended with.
/// </summary>
public sealed record ListStockRequest(string? Sku, string? Location, string? Low, int Limit, (string Sku, string Location)? After)
    : IRequest<StockLevelPage>, IValidated
{
    public void Validate(FieldErrors errors) => errors
        .Check(Sku is null || Stock.IsValidId(Sku), "sku", StockFields.IdRule)
        .Check(Location is null || Stock.IsValidId(Location), "location", StockFields.IdRule)
        .Check(Low is null or "true" or "false", "low", "true or false");
}

public sealed class ListStockHandler(StockLevelsQuery levels) : IRequestHandler<ListStockRequest, StockLevelPage>
{
    public Task<StockLevelPage> Handle(ListStockRequest request, CancellationToken ct) =>
        levels.Page(request.Sku, request.Location, request.Low is null ? null : request.Low == "true", request.Limit, request.After, ct);
}
