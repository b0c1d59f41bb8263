using MediatR;
using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Application.Pipeline;
using Steller.Domain.Orders;

namespace Steller.Application.Orders.Cancelling;

/// <summary>
/// An admin cancels an order whose fulfilment has not begun. <paramref name="IfMatch"/>: the revision the admin last saw.
/// </summary>
public sealed record CancelOrderRequest(string OrderId, string? Reason, EventMetadata Metadata, long? IfMatch = null)
    : IRequest<CommandOutcome<Order>>, IValidated
{
    public void Validate(FieldErrors errors) =>
        errors.Required(Reason, "reason", r => r is { Length: > 0 and <= Text.ReasonMax }, $"required: 1–{Text.ReasonMax} characters");
}

/// <summary>
/// Cancels an order that has not started fulfilment (pending-order timeout, or an admin): the cancellation is recorded
/// first — it loses against a fulfilment that already recorded its start — and only then are the hold and the
/// reservations given back (again by a process manager on order.cancelled.v1 if this process dies in between).
/// </summary>
public sealed class CancelOrderHandler(AggregateCommands<Order, IOrderCommand, IOrderEvent> orders, OrderReleases releases)
    : IRequestHandler<CancelOrderRequest, CommandOutcome<Order>>
{
    public async Task<CommandOutcome<Order>> Handle(CancelOrderRequest request, CancellationToken ct)
    {
        if (!Order.IsValidId(request.OrderId)) return OrderNotFound.Outcome(request.OrderId);
        var outcome = await Cancel(request.OrderId, request.Reason!, request.Metadata, request.IfMatch, ct);
        return OrderNotFound.IsNone(outcome) ? OrderNotFound.Outcome(request.OrderId) : outcome;
    }

    /// <summary>Cancels without an If-Match (the pending-order timeout).</summary>
    public Task<CommandOutcome<Order>> Cancel(string orderId, string reason, EventMetadata metadata, CancellationToken ct = default) =>
        Cancel(orderId, reason, metadata, null, ct);

    private async Task<CommandOutcome<Order>> Cancel(string orderId, string reason, EventMetadata metadata, long? ifMatch,
        CancellationToken ct)
    {
        var outcome = await orders.Execute(Order.StreamName(orderId), new CancelOrder(reason), metadata, ifMatch, ct: ct);
        if (outcome.Succeeded && !outcome.WasRepeat) await releases.ReleaseAll(outcome.State, $"order cancelled: {reason}", metadata, ct);
        return outcome;
    }
}
