namespace Steller.Application.Webhooks;

/// <summary>The message types a partner can subscribe to (docs/webhooks.md).</summary>
public static class WebhookTypes
{
    public const string OrderCompleted = "order.completed", OrderPartiallyCompleted = "order.partially_completed",
        OrderFailed = "order.failed", OrderCancelled = "order.cancelled", OrderRejected = "order.rejected",
        OrderRefunded = "order.refunded", WalletDeposited = "wallet.deposited", WalletLowBalance = "wallet.low_balance",
        Test = "webhook.test";

    /// <summary>Types an endpoint may name in <c>eventTypes</c> (webhook.test always reaches the endpoint it is sent to).</summary>
    public static readonly IReadOnlyList<string> Subscribable =
        [OrderCompleted, OrderPartiallyCompleted, OrderFailed, OrderCancelled, OrderRejected, OrderRefunded, WalletDeposited, WalletLowBalance];

    public static bool IsSubscribable(string type) => Subscribable.Contains(type, StringComparer.Ordinal);
}
