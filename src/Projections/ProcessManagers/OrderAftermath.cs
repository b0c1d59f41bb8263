using Steller.Application.EventStore;
using Steller.Application.Commands;
using Steller.Application.Serialization;
using Steller.Application.Orders;
using Steller.Application.Orders.Refunding;
using Steller.Application.Time;
using Steller.Application.Partners;
using Steller.Domain.Orders;
using Steller.Domain.Partners;
using Steller.Projections.Engine;

namespace Steller.Projections.ProcessManagers;

/// <summary>
/// Process manager for what must follow an order's decision even if the deciding process died right after it:
/// rejected / cancelled / failed → give back the hold and the reservations; refunded → credit the wallet.
/// The deciding code does the same inline; both are idempotent, so this normally finds nothing left to do.
/// Completed → the partner's first completed order activates it (partner.activated.v1, once per partner: the partner's
/// Decide answers "already done" after that, and its event id is derived from the partner, so a repeat appends nothing).
/// A refusal here is an inconsistency worth stopping for: the manager faults and retries rather than skip it.
/// </summary>
public sealed class OrderAftermath(
    AggregateCommands<Order, IOrderCommand, IOrderEvent> orders, OrderReleases releases, RefundOrderHandler refunds,
        AggregateCommands<Partner, IPartnerCommand, IPartnerEvent> partners, EventTypeRegistry registry, IClock clock)
    : IProcessManager
{
    public const string Actor = "system:order-aftermath";
    /// <summary>Partners seen activated by this process: their later completions cost no partner read.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> activated = new(StringComparer.Ordinal);
    public string Name => "order_aftermath";
    public IReadOnlySet<string> EventTypes { get; } = EventTypeSet.Union(
        EventNames.Of<OrderRejected>(), EventNames.Of<OrderCancelled>(), EventNames.Of<OrderFailed>(), EventNames.Of<OrderRefunded>(),
        EventNames.Of<OrderCompleted>());

    public async Task Handle(IReadOnlyList<RecordedEvent> events, CancellationToken ct)
    {
        foreach (var e in events)
        {
            if (!Order.TryParseStreamName(e.StreamId, out var orderId)) continue;
            var decision = registry.Deserialize(e.Type, e.Data.Span);
            var metadata = new EventMetadata(e.Metadata.CorrelationId, e.EventId.ToString(), Guid.NewGuid(), Actor, clock.UtcNow);
            if (decision is OrderCompleted)
            {
                // Activation needs only the order's partner, which never changes: no read when this node has the order cached.
                await Activate(await orders.LoadImmutable(Order.StreamName(orderId), ct), orderId, e, metadata, ct);
                continue;
            }
            var (order, _) = await orders.Load(Order.StreamName(orderId), ct);
            if (decision is OrderRefunded refunded)
            {
                await refunds.Credit(order, refunded.RefundId, metadata, ct);
                continue;
            }
            if (Release(decision) is not { } release) continue;
            // Act on the decision only while it stands: a failed order that an admin retried since is in a new
            // round, whose hold and reservations are not this event's to give back (the failed round's were
            // released before "failed" was written).
            if (order.Status != release.Decided) continue;
            await releases.ReleaseAll(order, release.Reason, metadata, ct);
        }
    }

    private async Task Activate(Order order, string orderId, RecordedEvent completed, EventMetadata metadata, CancellationToken ct)
    {
        if (order.Placed?.PartnerId is not { } partnerId || activated.ContainsKey(partnerId)) return;
        var (partner, _) = await partners.LoadPartner(partnerId, ct);
        if (!partner.Exists) return;
        if (partner.ActivatedAt is not null)
        {
            activated.TryAdd(partnerId, true);
            return;
        }
        var outcome = await partners.ExecuteOn(partnerId, new ActivatePartner(orderId, completed.Metadata.RecordedAt), metadata,
            eventIdSeed: "activated", ct: ct);
        if (outcome.Error is { } error) throw new InvalidOperationException($"Activating partner {partnerId} was refused: {error.Code}.");
        activated.TryAdd(partnerId, true);
    }

    /// <summary>The status a release follows from, and the reason it gives.</summary>
    private static (OrderStatus Decided, string Reason)? Release(object? decision) => decision switch
    {
        OrderRejected => (OrderStatus.Rejected, "order rejected"),
        OrderCancelled => (OrderStatus.Cancelled, "order cancelled"),
        OrderFailed => (OrderStatus.Failed, "failed: order failed"),
        _ => null,
    };
}
