using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Domain.Wallets;
using Steller.Domain.Orders;

namespace Steller.Application.Orders.Refunding;

/// <summary>
/// Refunds a completed order in full or in part. The order decides first (idempotent by refund id; never more than
/// was captured, so two refunds racing cannot exceed it), then the wallet is credited from platform revenue under a
/// transfer id derived from the refund, so a repeat — or the process manager after a crash — credits it once.
/// </summary>
public sealed class RefundOrderHandler(AggregateCommands<Order, IOrderCommand, IOrderEvent> orders, AggregateCommands<Wallet, IWalletCommand, IWalletEvent> wallets)
{
    public static string TransferIdOf(string orderId, string refundId) => $"{orderId}:refund:{refundId}";

    public async Task<CommandOutcome<Order>> Refund(string orderId, string refundId, long amount, string reason, EventMetadata metadata, CancellationToken ct = default)
    {
        var outcome = await orders.Execute(Order.StreamName(orderId), new RefundOrder(refundId, amount, reason), metadata, ct: ct);
        if (outcome.Succeeded) await Credit(outcome.State, refundId, metadata, ct);
        return outcome;
    }

    /// <summary>The wallet half of a recorded refund. Idempotent.</summary>
    public async Task Credit(Order order, string refundId, EventMetadata metadata, CancellationToken ct = default)
    {
        var placed = order.Placed!;
        var refund = order.Refunds[refundId];
        var credited = await wallets.Execute(Wallet.StreamName(placed.PartnerId, placed.Currency!), new CreditRefund(TransferIdOf(placed.OrderId, refundId), refund.Amount, placed.OrderId), metadata, ct: ct);
        if (credited.Error is { } error) throw new InvalidOperationException($"Refund {refundId} of order {placed.OrderId} cannot be credited: {error.Code}");
    }
}
