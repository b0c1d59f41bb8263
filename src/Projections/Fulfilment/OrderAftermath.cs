using Steller.Application.EventStore;
using Steller.Application.Commands;
using Steller.Application.Serialization;
using Steller.Application.Orders;
using Steller.Application.Orders.Refunding;
using Steller.Application.Time;
using Steller.Domain.Orders;
using Steller.Projections.Engine;

namespace Steller.Projections.Fulfilment;

/// <summary>
/// Process manager for what must follow an order's decision even if the deciding process died right after it:
/// rejected / cancelled / failed → give back the hold and the reservations; refunded → credit the wallet.
/// The deciding code does the same inline; both are idempotent, so this normally finds nothing left to do.
/// A refusal here is an inconsistency worth stopping for: the projection faults and retries rather than skip it.
/// </summary>
public sealed class OrderAftermath(AggregateCommands<Order, IOrderCommand, IOrderEvent> orders, OrderReleases releases, RefundOrderHandler refunds, EventTypeRegistry registry, IClock clock) : IProjection
{
    public const string Actor = "system:order-aftermath";
    public string Name => "order_aftermath";
    public int Version => 1;
    public IReadOnlySet<string>? EventTypes { get; } = new HashSet<string> { "order.rejected.v1", "order.cancelled.v1", "order.failed.v1", "order.refunded.v1" };
    public IReadOnlyList<string> Tables => [];
    public string CreateTablesSql(string schema) => "";

    public async Task Apply(IReadOnlyList<RecordedEvent> events, ProjectionContext context)
    {
        foreach (var e in events)
        {
            if (!Order.TryParseStreamName(e.StreamId, out var orderId)) continue;
            var metadata = new EventMetadata(e.Metadata.CorrelationId, e.EventId.ToString(), Guid.NewGuid(), Actor, clock.UtcNow);
            var (order, _) = await orders.Load(Order.StreamName(orderId), context.CancellationToken);
            if (e.Type == "order.refunded.v1")
            {
                if (registry.Deserialize(e.Type, e.Data.Span) is OrderRefunded refunded)
                    await refunds.Credit(order, refunded.RefundId, metadata, context.CancellationToken);
            }
            else
            {
                // Act on the decision only while it stands: a failed order that an admin retried since is in a new
                // round, whose hold and reservations are not this event's to give back (the failed round's were
                // released before "failed" was written).
                var decided = e.Type switch
                {
                    "order.rejected.v1" => OrderStatus.Rejected,
                    "order.cancelled.v1" => OrderStatus.Cancelled,
                    _ => OrderStatus.Failed,
                };
                if (order.Status != decided) continue;
                await releases.ReleaseAll(order, e.Type switch
                {
                    "order.rejected.v1" => "order rejected",
                    "order.cancelled.v1" => "order cancelled",
                    _ => "failed: order failed",
                }, metadata, context.CancellationToken);
            }
        }
    }
}
