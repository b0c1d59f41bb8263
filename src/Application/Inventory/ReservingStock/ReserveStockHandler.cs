using MediatR;
using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Application.Pipeline;
using Steller.Application.Time;
using Steller.Domain.Inventory;

namespace Steller.Application.Inventory.ReservingStock;

/// <summary>
/// Units held for an order until committed, released or expired (after 15 minutes unless <see cref="ExpiresAt"/> says otherwise).
/// </summary>
public sealed record ReserveStockRequest(
    string Sku, string Location, string? ReservationId, long? Quantity, string? OrderId, DateTimeOffset? ExpiresAt, EventMetadata Metadata,
    long? IfMatch = null) : IRequest<CommandOutcome<Stock>>, IValidated
{
    public void Validate(FieldErrors errors) => errors
        .Target(Sku, Location)
        .CommandId(ReservationId, "reservationId")
        .Units(Quantity)
        .CommandId(OrderId, "orderId");
}

/// <summary>Reserves units; never more than are available. Idempotent by reservation id.</summary>
public sealed class ReserveStockHandler(AggregateCommands<Stock, IStockCommand, IStockEvent> stock, IClock clock)
    : IRequestHandler<ReserveStockRequest, CommandOutcome<Stock>>
{
    public Task<CommandOutcome<Stock>> Handle(ReserveStockRequest request, CancellationToken ct) =>
        stock.Execute(Stock.StreamName(request.Sku, request.Location),
            new ReserveStock(request.ReservationId!, request.Quantity!.Value, request.OrderId!, request.ExpiresAt, clock.UtcNow),
            request.Metadata, request.IfMatch, ct: ct);
}
