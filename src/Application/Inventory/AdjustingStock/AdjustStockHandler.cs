using MediatR;
using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Application.Pipeline;
using Steller.Domain.Inventory;

namespace Steller.Application.Inventory.AdjustingStock;

/// <summary>A correction of on-hand stock by a signed quantity (negative takes stock away), with a reason code.</summary>
public sealed record AdjustStockRequest(
    string Sku, string Location, string? AdjustmentId, long? Quantity, string? Reason, EventMetadata Metadata, long? IfMatch = null)
    : IRequest<CommandOutcome<Stock>>, IValidated
{
    public void Validate(FieldErrors errors) => errors
        .Target(Sku, Location)
        .CommandId(AdjustmentId, "adjustmentId")
        .Required(Quantity, "quantity", q => q != 0, "a non-zero whole number of units: negative takes stock away")
        .Required(Reason, "reason", Stock.AdjustmentReasons.Contains, $"one of {string.Join(", ", Stock.AdjustmentReasons)}");
}

/// <summary>Adjusts on-hand stock; never below what is reserved. Idempotent by adjustment id.</summary>
public sealed class AdjustStockHandler(AggregateCommands<Stock, IStockCommand, IStockEvent> stock)
    : IRequestHandler<AdjustStockRequest, CommandOutcome<Stock>>
{
    public Task<CommandOutcome<Stock>> Handle(AdjustStockRequest request, CancellationToken ct) =>
        stock.Execute(Stock.StreamName(request.Sku, request.Location),
            new AdjustStock(request.AdjustmentId!, request.Quantity!.Value, request.Reason!), request.Metadata, request.IfMatch, ct: ct);
}
