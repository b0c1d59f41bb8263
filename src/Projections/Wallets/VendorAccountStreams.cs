using Steller.Application.EventStore;
using Steller.Application.Serialization;
using Steller.Domain.Vendors;

namespace Steller.Projections.Wallets;

/// <summary>
/// Vendor account streams ("vendor-{vendor}") and their events: finance's top-ups and the vendors' reversals, which the ledger
/// folds beside the wallet events (<see cref="LedgerStreams"/>).
/// </summary>
public static class VendorAccountStreams
{
    /// <summary>Stored names of every vendor account event.</summary>
    public static IReadOnlySet<string> EventTypes { get; } = EventNames.Of<IVendorAccountEvent>();

    /// <summary>The vendor account event in <paramref name="e"/>, or null when it is not one of a vendor account stream.</summary>
    public static IVendorAccountEvent? Read(EventTypeRegistry registry, RecordedEvent e) =>
        EventTypes.Contains(e.Type) && VendorAccount.TryParseStreamName(e.StreamId, out _)
            ? registry.Deserialize(e.Type, e.Data.Span) as IVendorAccountEvent
            : null;
}

/// <summary>Every event the ledger folds: wallet events and vendor account events.</summary>
public static class LedgerStreams
{
    public static IReadOnlySet<string> EventTypes { get; } =
        WalletStreams.EventTypes.Concat(VendorAccountStreams.EventTypes).ToHashSet(StringComparer.Ordinal);
}
