using Steller.Application.EventStore;
using Steller.Application.Commands;
using Steller.Application.Orders.PlacingOrder;
using Steller.Domain;
using Steller.Domain.Orders;

namespace Steller.Application.Orders.Retrying;

/// <summary>
/// An admin retries a failed order: the order records a new round (its failed round's hold was released when it
/// failed), then placement runs again for that round: hold, reserve, record "funds held"; fulfilment follows as for
/// any order. A repeat while the new round is under way changes nothing (the order is no longer failed).
/// </summary>
public sealed class RetryOrderHandler(AggregateCommands<Order, IOrderCommand, IOrderEvent> orders, PlaceOrderHandler placement)
{
    public async Task<(Order Order, long Revision, DomainError? Error)> Retry(string orderId, string reason, EventMetadata metadata, CancellationToken ct = default)
    {
        var retried = await orders.Execute(Order.StreamName(orderId), new RetryOrder(reason), metadata, ct: ct);
        if (retried.Error is { } error) return (retried.State, retried.Revision, error);
        var resumed = await placement.Resume(orderId, metadata, ct);
        return (resumed.Order!, resumed.Revision, null);
    }
}
