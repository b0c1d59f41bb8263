using Steller.Application.EventStore;
using Steller.Application.Orders;
using Steller.Application.Serialization;
using Steller.Domain.Orders;

namespace Steller.Projections.Orders;

/// <summary>Order events ("order-{orderId}" streams) as the order read models see them.</summary>
public static class OrderEventTypes
{
    /// <summary>Stored names of every order event (from the [EventName] attributes of the domain).</summary>
    public static IReadOnlySet<string> All { get; } = EventNames.Of<IOrderEvent>();

    /// <summary>The order id and event in <paramref name="e"/>, or null when it is not an order event of an order stream.</summary>
    public static (string OrderId, IOrderEvent Event)? Read(EventTypeRegistry registry, RecordedEvent e) =>
        All.Contains(e.Type) && Order.TryParseStreamName(e.StreamId, out var orderId)
            && registry.Deserialize(e.Type, e.Data.Span) is IOrderEvent oe
            ? (orderId, oe)
            : null;

    /// <summary>Statuses that count as a completed sale (a refund later does not undo the delivery).</summary>
    public static bool IsCompletedSale(OrderStatus s) =>
        s is OrderStatus.Completed or OrderStatus.PartiallyCompleted or OrderStatus.Refunded or OrderStatus.PartiallyRefunded;
}
