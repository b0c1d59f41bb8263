namespace Steller.Application.Webhooks;

/// <summary>The message types a partner can subscribe to (docs/webhooks.md).</summary>
public static class WebhookTypes
{
    public const string OrderCompleted = "order.completed", OrderPartiallyCompleted = "order.partially_completed",
        OrderFailed = "order.failed", OrderCancelled = "order.cancelled", OrderRejected = "order.rejected",
        OrderRefunded = "order.refunded", WalletDeposited = "wallet.deposited", WalletLowBalance = "wallet.low_balance",
        Test = "webhook.test", AlertOpened = "alert.opened", AlertClosed = "alert.closed";

    /// <summary>Types an endpoint may name in <c>eventTypes</c> (webhook.test always reaches the endpoint it is sent to).</summary>
    public static readonly IReadOnlyList<string> Subscribable =
        [OrderCompleted, OrderPartiallyCompleted, OrderFailed, OrderCancelled, OrderRejected, OrderRefunded, WalletDeposited, WalletLowBalance];

    public static bool IsSubscribable(string type) => Subscribable.Contains(type, StringComparer.Ordinal);

    /// <summary>Types an admin-configured endpoint (<c>/admin/webhook-endpoints</c>) may name: operational alerts.</summary>
    public static readonly IReadOnlyList<string> AdminSubscribable = [AlertOpened, AlertClosed];

    /// <summary>The types an endpoint of <paramref name="ownerId"/> may name (a partner's, or the admins').</summary>
    public static IReadOnlyList<string> SubscribableBy(string ownerId) => ownerId == WebhookOwners.Admin ? AdminSubscribable : Subscribable;
}

/// <summary>Who an endpoint belongs to: a partner id, or <see cref="Admin"/> for the admin-configured alert endpoints.</summary>
public static class WebhookOwners
{
    /// <summary>The owner of admin endpoints; never a partner id (partner ids have no '_').</summary>
    public const string Admin = "_admin";
}
