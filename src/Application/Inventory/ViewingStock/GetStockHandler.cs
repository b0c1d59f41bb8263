using MediatR;
using Steller.Application.Commands;
using Steller.Application.Pipeline;
using Steller.Domain.Inventory;

namespace Steller.Application.Inventory.ViewingStock;

/// <summary>One stock item, live from its stream (not a read model); null when no stock was ever recorded there.</summary>
public sealed record GetStockRequest(string Sku, string Location) : IRequest<StockView?>, IValidated
{
    public void Validate(FieldErrors errors) => errors.Target(Sku, Location);
}

public sealed class GetStockHandler(AggregateCommands<Stock, IStockCommand, IStockEvent> stock)
    : IRequestHandler<GetStockRequest, StockView?>
{
    public async Task<StockView?> Handle(GetStockRequest request, CancellationToken ct)
    {
        var (state, revision) = await stock.Load(Stock.StreamName(request.Sku, request.Location), ct);
        return revision < 0 ? null : StockView.Of(request.Sku, request.Location, state, revision);
    }
}
