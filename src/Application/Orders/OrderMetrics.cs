using Prometheus;
using Steller.Domain.Orders;

namespace Steller.Application.Orders;

/// <summary>
/// Orders in /metrics: <c>steller_orders_total{outcome}</c> counts orders as they reach an outcome on this node (placed,
/// rejected, completed, partially_completed, failed, cancelled, refunded), counted once, when the event is durable.
/// </summary>
public static class OrderMetrics
{
    public static readonly Counter Orders = Metrics.CreateCounter("steller_orders_total",
        "Orders reaching an outcome on this node: placed, rejected, completed, partially_completed, failed, cancelled, refunded.",
            "outcome");

    public static void Count(IOrderEvent e)
    {
        var outcome = e switch
        {
            OrderPlaced => "placed",
            OrderRejected => "rejected",
            OrderCompleted { Status: "PartiallyCompleted" } => "partially_completed",
            OrderCompleted => "completed",
            OrderFailed => "failed",
            OrderCancelled => "cancelled",
            OrderRefunded => "refunded",
            _ => null,
        };
        if (outcome is not null) Orders.WithLabels(outcome).Inc();
    }
}
