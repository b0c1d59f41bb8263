using MediatR;
using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Application.Pipeline;
using Steller.Domain.Wallets;
using Steller.Domain.Orders;

namespace Steller.Application.Orders.Refunding;

/// <summary>An admin refunds a completed order in full or in part, idempotent by <paramref name="RefundId"/>.</summary>
public sealed record RefundOrderRequest(string OrderId, string? RefundId, long? Amount, string? Reason, EventMetadata Metadata,
    long? IfMatch = null)
    : IRequest<CommandOutcome<Order>>, IValidated
{
    public void Validate(FieldErrors errors) => errors
        .Required(RefundId, "refundId", id => id is { Length: > 0 and <= 100 }
            && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.'),
            "required: 1–100 characters of letters, digits, '_', '-', '.'")
        .Required(Amount, "amount", a => a is > 0, "positive minor units, at most what was captured and not yet refunded")
        .Required(Reason, "reason", r => r is { Length: > 0 and <= Text.ReasonMax }, $"required: 1–{Text.ReasonMax} characters");
}

/// <summary>
/// Refunds a completed order in full or in part. The order decides first (idempotent by refund id; never more than
/// was captured, so two refunds racing cannot exceed it), then the wallet is credited from platform revenue under a
/// transfer id derived from the refund, so a repeat — or the process manager after a crash — credits it once.
/// </summary>
public sealed class RefundOrderHandler(AggregateCommands<Order, IOrderCommand, IOrderEvent> orders,
    AggregateCommands<Wallet, IWalletCommand, IWalletEvent> wallets)
    : IRequestHandler<RefundOrderRequest, CommandOutcome<Order>>
{
    public static string TransferIdOf(string orderId, string refundId) => $"{orderId}:refund:{refundId}";

    public async Task<CommandOutcome<Order>> Handle(RefundOrderRequest request, CancellationToken ct)
    {
        if (!Order.IsValidId(request.OrderId)) return OrderNotFound.Outcome(request.OrderId);
        var refund = new RefundOrder(request.RefundId!, request.Amount!.Value, request.Reason!);
        var outcome = await orders.Execute(Order.StreamName(request.OrderId), refund, request.Metadata, request.IfMatch, ct: ct);
        if (OrderNotFound.IsNone(outcome)) return OrderNotFound.Outcome(request.OrderId);
        if (outcome.Succeeded) await Credit(outcome.State, refund.RefundId, request.Metadata, ct);
        return outcome;
    }

    /// <summary>The wallet half of a recorded refund. Idempotent.</summary>
    public async Task Credit(Order order, string refundId, EventMetadata metadata, CancellationToken ct = default)
    {
        var placed = order.Placed!;
        var refund = order.Refunds[refundId];
        var credit = new CreditRefund(TransferIdOf(placed.OrderId, refundId), refund.Amount, placed.OrderId);
        var credited = await wallets.Execute(Wallet.StreamName(placed.PartnerId, placed.Currency!), credit, metadata, ct: ct);
        if (credited.Error is { } error)
            throw new InvalidOperationException($"Refund {refundId} of order {placed.OrderId} cannot be credited: {error.Code}");
    }
}
