using Microsoft.Extensions.Logging;
using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Application.Serialization;
using Steller.Domain.Ledger;

namespace Steller.Application.Wallets;

/// <summary>
/// Every wallet command goes through here: stream "wallet-{partnerId}-{currency}", serialised and batched per
/// wallet by <see cref="AggregateCommands{TState,TEvent}"/>, decided by <see cref="Wallet.Decide"/>.
/// </summary>
public sealed class WalletCommands(IEventStore store, EventTypeRegistry registry, ILogger<WalletCommands> logger)
{
    private readonly AggregateCommands<Wallet, IWalletEvent> commands = new("wallet", store, registry, Wallet.Empty, Wallet.Evolve, logger);

    public const string StreamPrefix = "wallet-";

    public static string StreamId(string partnerId, string currency) => $"{StreamPrefix}{partnerId}-{currency}";

    /// <summary>Partner and currency of a wallet stream; the currency is the last segment, so partner ids may contain '-'.</summary>
    public static bool TryParseStreamId(string streamId, out string partnerId, out string currency)
    {
        partnerId = currency = "";
        if (!streamId.StartsWith(StreamPrefix, StringComparison.Ordinal)) return false;
        var dash = streamId.LastIndexOf('-');
        if (dash <= StreamPrefix.Length) return false;
        partnerId = streamId[StreamPrefix.Length..dash];
        currency = streamId[(dash + 1)..];
        return Domain.Currency.TryParse(currency, out _) && partnerId.Length > 0;
    }

    /// <summary>The partner id rule of the partner aggregate (one rule for every stream named after a partner).</summary>
    public static bool IsValidPartnerId(string? id) => Domain.Partners.Partner.IsValidId(id);

    public Task<CommandOutcome<Wallet>> Execute(string partnerId, string currency, IWalletCommand command, EventMetadata metadata, CancellationToken ct = default) =>
        commands.Execute(StreamId(partnerId, currency), s => Wallet.Decide(command, s), metadata, ct);

    public Task<(Wallet State, long Revision)> Load(string partnerId, string currency, CancellationToken ct = default) =>
        commands.Load(StreamId(partnerId, currency), ct);
}
