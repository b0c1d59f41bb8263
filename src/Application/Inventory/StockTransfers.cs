using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Application.Faults;
using Steller.Domain;
using Steller.Domain.Inventory;

namespace Steller.Application.Inventory;

/// <summary>Moving units between two locations of one sku: two commands on two stock streams, each idempotent by transfer id.</summary>
public sealed class StockTransfers(AggregateCommands<Stock, IStockCommand, IStockEvent> stock)
{
    private Task<CommandOutcome<Stock>> Execute(string sku, string location, IStockCommand command, EventMetadata metadata, CancellationToken ct) =>
        stock.Execute(Stock.StreamName(sku, location), command, metadata, ct: ct);

    private Task<(Stock State, long Revision)> Load(string sku, string location, CancellationToken ct) => stock.Load(Stock.StreamName(sku, location), ct);

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
