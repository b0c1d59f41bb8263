using Steller.Application.EventStore;
using Steller.Application.Serialization;
using Steller.Domain.Wallets;

namespace Steller.Projections.Wallets;

/// <summary>Wallet streams ("wallet-{partnerId}-{currency}") and their events, as read models and the ledger replay see them.</summary>
public static class WalletStreams
{
    public const string Prefix = Wallet.StreamPrefix;

    /// <summary>Stored names of every wallet event (from the [EventName] attributes of the domain).</summary>
    public static IReadOnlySet<string> EventTypes { get; } = EventNames.Of<IWalletEvent>();

    /// <summary>The wallet event in <paramref name="e"/>, or null when it is not a wallet event of a wallet stream.</summary>
    public static IWalletEvent? Read(EventTypeRegistry registry, RecordedEvent e) =>
        EventTypes.Contains(e.Type) && e.StreamId.StartsWith(Prefix, StringComparison.Ordinal)
            ? registry.Deserialize(e.Type, e.Data.Span) as IWalletEvent
            : null;
}
