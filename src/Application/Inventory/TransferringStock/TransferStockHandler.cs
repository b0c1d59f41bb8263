using MediatR;
using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Application.Faults;
using Steller.Application.Pipeline;
using Steller.Domain;
using Steller.Domain.Inventory;

namespace Steller.Application.Inventory.TransferringStock;

/// <summary>
/// A move of units (and their voucher codes, oldest first) from this location to another of the same sku.
/// If-Match names the sending location.
/// </summary>
public sealed record TransferStockRequest(
    string Sku, string Location, string? TransferId, string? ToLocation, long? Quantity, EventMetadata Metadata, long? IfMatch = null)
    : IRequest<StockTransferOutcome>, IValidated
{
    public void Validate(FieldErrors errors) => errors
        .Target(Sku, Location)
        .CommandId(TransferId, "transferId")
        .Required(ToLocation, "toLocation", to => Stock.IsValidId(to) && to != Location, $"another location: {StockFields.IdRule}")
        .Units(Quantity);
}

/// <summary>
/// Both halves of a move: the sending location's outcome, and the receiving location's once the sending half is written
/// (null when the sending half was refused).
/// </summary>
public sealed record StockTransferOutcome(CommandOutcome<Stock> From, CommandOutcome<Stock>? To) : IRefusable
{
    public DomainError? Error => From.Error ?? To?.Error;
}

/// <summary>
/// Moves units between two locations of one sku: the sending half, then the receiving half, both idempotent by transfer id, so a
/// repeat of the whole call is harmless. If the process dies between the halves, StockTransferCompletion finishes the move from the
/// sending half's event; a repeated call would too.
/// </summary>
public sealed class TransferStockHandler(AggregateCommands<Stock, IStockCommand, IStockEvent> stock, StockTransfers transfers)
    : IRequestHandler<TransferStockRequest, StockTransferOutcome>
{
    public async Task<StockTransferOutcome> Handle(TransferStockRequest request, CancellationToken ct)
    {
        var (sku, from, to, transferId) = (request.Sku, request.Location, request.ToLocation!, request.TransferId!);
        var (source, sourceRevision) = await stock.Load(Stock.StreamName(sku, from), ct);
        if (request.IfMatch is { } expected && expected != sourceRevision)
            return Refused(source, sourceRevision, CommandErrors.PreconditionFailed(expected, sourceRevision));
        // The receiving half must not be refused once the sending half is written (the units would sit in transit),
        // so refuse up front what the receiving location would: another currency, or codes where it has none (or back).
        var (destination, _) = await stock.Load(Stock.StreamName(sku, to), ct);
        if (!source.TransfersOut.ContainsKey(transferId) && Incompatible(source, destination, request.Quantity!.Value) is { } refusal)
            return Refused(source, sourceRevision, refusal);

        var sent = await stock.Execute(Stock.StreamName(sku, from), new TransferStockOut(transferId, from, to, request.Quantity!.Value),
            request.Metadata, request.IfMatch, ct: ct);
        if (sent.Error is not null) return new StockTransferOutcome(sent, null);
        CrashPoints.Reach(CrashPoints.AfterStockTransferOut);
        // Once the units have left, the receiving half runs even if the caller stops waiting.
        var sentHalf = sent.State.TransfersOut[transferId];
        var received = await transfers.CompleteTransfer(sku, from, sentHalf, request.Metadata, CancellationToken.None);
        return new StockTransferOutcome(sent, received);
    }

    private static StockTransferOutcome Refused(Stock source, long revision, DomainError error) =>
        new(new CommandOutcome<Stock>(source, revision, [], error, default), null);

    private static DomainError? Incompatible(Stock source, Stock destination, long quantity) =>
        !Quantity.StaysInRange(destination.OnHand, quantity) ? Quantity.OutOfRange
        : source.Currency is not null && destination.Currency is not null && source.Currency != destination.Currency
            ? StockErrors.CurrencyMismatch
        : source.HasCodes is { } sourceCodes && destination.HasCodes is { } destinationCodes && sourceCodes != destinationCodes
            ? (sourceCodes ? StockErrors.CodesNotExpected : StockErrors.CodesRequired)
        : null;
}
