using MediatR;
using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Application.Pipeline;
using Steller.Domain.Inventory;

namespace Steller.Application.Inventory.SettingLowThreshold;

public sealed record SetLowThresholdRequest(string Sku, string Location, long? Threshold, EventMetadata Metadata, long? IfMatch = null)
    : IRequest<CommandOutcome<Stock>>, IValidated
{
    public void Validate(FieldErrors errors) => errors
        .Target(Sku, Location)
        .Required(Threshold, "threshold", t => t >= 0, "0 or more units (0 turns the low flag off)");
}

/// <summary>Available stock at or below the threshold is flagged low.</summary>
public sealed class SetLowThresholdHandler(AggregateCommands<Stock, IStockCommand, IStockEvent> stock)
    : IRequestHandler<SetLowThresholdRequest, CommandOutcome<Stock>>
{
    public Task<CommandOutcome<Stock>> Handle(SetLowThresholdRequest request, CancellationToken ct) =>
        stock.Execute(Stock.StreamName(request.Sku, request.Location), new SetLowThreshold(request.Threshold!.Value),
            request.Metadata, request.IfMatch, ct: ct);
}
