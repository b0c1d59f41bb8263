using Microsoft.Extensions.Logging;
using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Application.Faults;
using Steller.Application.Serialization;
using Steller.Domain;
using Steller.Domain.Inventory;

namespace Steller.Application.Inventory;

/// <summary>
/// Every stock command goes through here: stream "stock-{sku}.{location}", serialised and batched per stock item by
/// <see cref="AggregateCommands{TState,TEvent}"/>, decided by <see cref="Stock.Decide"/>. The separator is a '.'
/// (never part of an id) so that no two (sku, location) pairs can share a stream: with '-' "a-b"/"c" and "a"/"b-c" would.
/// </summary>
public sealed class StockCommands(IEventStore store, EventTypeRegistry registry, ILogger<StockCommands> logger)
{
    public const string StreamPrefix = "stock-";

    private readonly AggregateCommands<Stock, IStockEvent> commands = new("stock", store, registry, Stock.Empty, Stock.Evolve, logger);

    public static string StreamId(string sku, string location) => $"{StreamPrefix}{sku}.{location}";

    public static bool TryParseStreamId(string streamId, out string sku, out string location)
    {
        sku = location = "";
        if (!streamId.StartsWith(StreamPrefix, StringComparison.Ordinal)) return false;
        var rest = streamId[StreamPrefix.Length..];
        var dot = rest.IndexOf('.');
        if (dot < 0) return false;
        (sku, location) = (rest[..dot], rest[(dot + 1)..]);
        return Stock.IsValidId(sku) && Stock.IsValidId(location);
    }

    public Task<CommandOutcome<Stock>> Execute(string sku, string location, IStockCommand command, EventMetadata metadata, CancellationToken ct = default) =>
        commands.Execute(StreamId(sku, location), s => Stock.Decide(command, s), metadata, ct);

    public Task<(Stock State, long Revision)> Load(string sku, string location, CancellationToken ct = default) =>
        commands.Load(StreamId(sku, location), ct);

    /// <summary>
    /// Moves units (and their codes) between two locations of one sku: the sending half, then the receiving half.
    /// Both are idempotent by transfer id, so a repeat of the whole call is harmless. If the process dies between the
    /// halves, <c>StockTransferCompletion</c> finishes the move from the sending half's event; a repeated call would too.
    /// The outcome is the sending location's, or the receiving location's refusal if it refused.
    /// </summary>
    public async Task<(CommandOutcome<Stock> From, CommandOutcome<Stock>? To)> Transfer(string sku, string from, string to, string transferId, long quantity,
        EventMetadata metadata, CancellationToken ct = default)
    {
        // The receiving half must not be refused once the sending half is written (the units would sit in transit),
        // so refuse up front what the receiving location would: another currency, or codes where it has none (or back).
        var (source, sourceRevision) = await Load(sku, from, ct);
        var (destination, _) = await Load(sku, to, ct);
        if (!source.TransfersOut.ContainsKey(transferId) && Incompatible(source, destination) is { } refusal)
            return (new CommandOutcome<Stock>(source, sourceRevision, [], refusal, default), null);
        var sent = await Execute(sku, from, new TransferStockOut(transferId, from, to, quantity), metadata, ct);
        if (sent.Error is not null) return (sent, null);
        CrashPoints.Reach(CrashPoints.AfterStockTransferOut);
        var received = await CompleteTransfer(sku, from, sent.State.TransfersOut[transferId], metadata, ct);
        return (sent, received);
    }

    private static DomainError? Incompatible(Stock source, Stock destination) =>
        source.Currency is not null && destination.Currency is not null && source.Currency != destination.Currency ? StockErrors.CurrencyMismatch
        : source.HasCodes is { } sourceCodes && destination.HasCodes is { } destinationCodes && sourceCodes != destinationCodes
            ? (sourceCodes ? StockErrors.CodesNotExpected : StockErrors.CodesRequired)
        : null;

    /// <summary>The receiving half of a move whose sending half is recorded. Idempotent by transfer id.</summary>
    public Task<CommandOutcome<Stock>> CompleteTransfer(string sku, string from, StockTransferredOut sent, EventMetadata metadata, CancellationToken ct = default) =>
        Execute(sku, sent.ToLocation, new TransferStockIn(from, sent), metadata, ct);
}
