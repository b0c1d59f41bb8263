using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Domain.Orders;

namespace Steller.Application.Orders.Cancelling;

/// <summary>
/// Cancels an order that has not started fulfilment (pending-order timeout, or an admin): the cancellation is recorded
/// first — it loses against a fulfilment that already recorded its start — and only then are the hold and the
/// reservations given back (again by a process manager on order.cancelled.v1 if this process dies in between).
/// </summary>
public sealed class CancelOrderHandler(AggregateCommands<Order, IOrderCommand, IOrderEvent> orders, OrderReleases releases)
{
    public async Task<CommandOutcome<Order>> Cancel(string orderId, string reason, EventMetadata metadata, CancellationToken ct = default)
    {
        var outcome = await orders.Execute(Order.StreamName(orderId), new CancelOrder(reason), metadata, ct: ct);
        if (outcome.Succeeded && !outcome.WasRepeat) await releases.ReleaseAll(outcome.State, $"order cancelled: {reason}", metadata, ct);
        return outcome;
    }
}
