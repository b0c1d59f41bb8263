using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Domain.Inventory;

namespace Steller.Application.Inventory.TransferringStock;

/// <summary>
/// The receiving half of a move whose sending half is recorded: run by the transfer itself (<see cref="TransferStockHandler"/>) and by
/// the process manager that finishes moves whose writer died between the halves (StockTransferCompletion). Idempotent by transfer id.
/// </summary>
public sealed class StockTransfers(AggregateCommands<Stock, IStockCommand, IStockEvent> stock)
{
    public Task<CommandOutcome<Stock>> CompleteTransfer(string sku, string from, StockTransferredOut sent, EventMetadata metadata,
        CancellationToken ct = default) =>
        stock.Execute(Stock.StreamName(sku, sent.ToLocation), new TransferStockIn(from, sent), metadata, ct: ct);
}
