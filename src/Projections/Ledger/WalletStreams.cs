using System.Reflection;
using Steller.Application.EventStore;
using Steller.Application.Serialization;
using Steller.Domain;
using Steller.Domain.Ledger;

namespace Steller.Projections.Ledger;

/// <summary>Wallet streams ("wallet-{partnerId}-{currency}") and their events, as read models and the ledger replay see them.</summary>
public static class WalletStreams
{
    public const string Prefix = "wallet-";

    public static string Name(string partnerId, string currency) => $"{Prefix}{partnerId}-{currency}";

    /// <summary>Partner and currency of a wallet stream; the currency is the last segment, so partner ids may contain '-'.</summary>
    public static bool TryParse(string streamId, out string partnerId, out string currency)
    {
        partnerId = currency = "";
        if (!streamId.StartsWith(Prefix, StringComparison.Ordinal)) return false;
        var dash = streamId.LastIndexOf('-');
        if (dash <= Prefix.Length) return false;
        partnerId = streamId[Prefix.Length..dash];
        currency = streamId[(dash + 1)..];
        return Currency.TryParse(currency, out _) && partnerId.Length > 0;
    }

    /// <summary>Stored names of every wallet event (from the [EventName] attributes of the domain).</summary>
    public static IReadOnlySet<string> EventTypes { get; } = typeof(IWalletEvent).Assembly.GetTypes()
        .Where(t => typeof(IWalletEvent).IsAssignableFrom(t) && t.GetCustomAttribute<EventNameAttribute>() is not null)
        .Select(t => t.GetCustomAttribute<EventNameAttribute>()!.Name)
        .ToHashSet(StringComparer.Ordinal);

    /// <summary>The registry every ledger reader uses: the domain's events.</summary>
    public static EventTypeRegistry CreateRegistry() => new EventTypeRegistry().AddAssembly(typeof(Wallet).Assembly);

    /// <summary>The wallet event in <paramref name="e"/>, or null when it is not a wallet event of a wallet stream.</summary>
    public static IWalletEvent? Read(EventTypeRegistry registry, RecordedEvent e) =>
        EventTypes.Contains(e.Type) && e.StreamId.StartsWith(Prefix, StringComparison.Ordinal)
            ? registry.Deserialize(e.Type, e.Data.Span) as IWalletEvent
            : null;
}
