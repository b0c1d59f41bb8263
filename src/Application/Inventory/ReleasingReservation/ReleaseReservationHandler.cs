using MediatR;
using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Application.Pipeline;
using Steller.Domain.Inventory;

namespace Steller.Application.Inventory.ReleasingReservation;

public sealed record ReleaseReservationRequest(string Sku, string Location, string ReservationId, string? Reason, EventMetadata Metadata,
    long? IfMatch = null) : IRequest<CommandOutcome<Stock>>, IValidated
{
    public void Validate(FieldErrors errors) => errors
        .Target(Sku, Location)
        .Required(Reason, "reason", Stock.ReleaseReasons.Contains, $"one of {string.Join(", ", Stock.ReleaseReasons)}");
}

/// <summary>Releases a reservation: its units are available again. Twice is a no-op; after a commit it is refused.</summary>
public sealed class ReleaseReservationHandler(AggregateCommands<Stock, IStockCommand, IStockEvent> stock)
    : IRequestHandler<ReleaseReservationRequest, CommandOutcome<Stock>>
{
    public Task<CommandOutcome<Stock>> Handle(ReleaseReservationRequest request, CancellationToken ct) =>
        stock.Execute(Stock.StreamName(request.Sku, request.Location), new ReleaseReservation(request.ReservationId, request.Reason!),
            request.Metadata, request.IfMatch, ct: ct);
}
