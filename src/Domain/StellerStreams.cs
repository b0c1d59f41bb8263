using Steller.Domain.Alerts;
using Steller.Domain.Catalog;
using Steller.Domain.Inventory;
using Steller.Domain.Orders;
using Steller.Domain.Partners;
using Steller.Domain.Wallets;

namespace Steller.Domain;

/// <summary>
/// The one place that knows every stream Steller writes: each aggregate's stream name prefix. An event store shared
/// with other applications (EventStoreDB) limits Steller's global log to these streams; a new aggregate adds its
/// prefix here or its events never reach a projection there.
/// </summary>
public static class StellerStreams
{
    public static readonly IReadOnlyList<string> Prefixes =
    [
        Wallet.StreamPrefix,
        Order.StreamPrefix,
        Stock.StreamPrefix,
        Product.StreamPrefix,
        Partner.StreamPrefix,
        Vendors.VendorAccount.StreamPrefix,
        Alert.StreamPrefix,
    ];
}
