using MediatR;
using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Application.Pipeline;
using Steller.Domain.Inventory;

namespace Steller.Application.Inventory.CommittingReservation;

public sealed record CommitReservationRequest(string Sku, string Location, string ReservationId, EventMetadata Metadata,
    long? IfMatch = null)
    : IRequest<CommandOutcome<Stock>>, IValidated
{
    public void Validate(FieldErrors errors) => errors.Target(Sku, Location);
}

/// <summary>
/// Commits a reservation: its units (and on coded stock the oldest codes) leave stock. Twice is a no-op; after a release it is refused.
/// </summary>
public sealed class CommitReservationHandler(AggregateCommands<Stock, IStockCommand, IStockEvent> stock)
    : IRequestHandler<CommitReservationRequest, CommandOutcome<Stock>>
{
    public Task<CommandOutcome<Stock>> Handle(CommitReservationRequest request, CancellationToken ct) =>
        stock.Execute(Stock.StreamName(request.Sku, request.Location), new CommitReservation(request.ReservationId),
            request.Metadata, request.IfMatch, ct: ct);
}
