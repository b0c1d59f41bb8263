using MediatR;
using Steller.Application.Catalog;
using Steller.Application.Commands;
using Steller.Application.Pipeline;
using Steller.Domain.Catalog;

namespace Steller.Projections.Catalog.ReadingCostHistory;

/// <summary>
/// A product's cost history from read.product_cost_history (listed, cost-changed, delisted), oldest first. Answers null
/// for a sku whose stream has no product (unknown_sku).
/// </summary>
public sealed record ReadCostHistoryRequest(string Sku) : IRequest<IReadOnlyList<CostHistoryEntry>?>, IValidated
{
    public void Validate(FieldErrors errors) => errors.Sku(Sku);
}

public sealed class ReadCostHistoryHandler(AggregateCommands<Product, IProductCommand, IProductEvent> products, CatalogQuery query)
    : IRequestHandler<ReadCostHistoryRequest, IReadOnlyList<CostHistoryEntry>?>
{
    public async Task<IReadOnlyList<CostHistoryEntry>?> Handle(ReadCostHistoryRequest request, CancellationToken ct)
    {
        var (state, _) = await products.Load(Product.StreamName(request.Sku), ct);
        return state.Exists ? await query.CostHistory(request.Sku, ct) : null;
    }
}
