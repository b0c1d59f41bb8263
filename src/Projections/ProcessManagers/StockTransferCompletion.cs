using Steller.Application.EventStore;
using Steller.Application.Inventory.TransferringStock;
using Steller.Application.Serialization;
using Steller.Application.Time;
using Steller.Domain.Inventory;

namespace Steller.Projections.ProcessManagers;

/// <summary>
/// Every stock transfer out gets its transfer in at the receiving location (see <see cref="TransferCompletion{TSent}"/>).
/// </summary>
public sealed class StockTransferCompletion(StockTransfers stock, EventTypeRegistry registry, IClock clock)
    : TransferCompletion<StockTransferredOut>(registry, clock, Actor)
{
    public const string Actor = "system:stock-transfer-completion";
    public override string Name => "stock_transfer_completion";

    protected override async Task<string?> Complete(string streamId, StockTransferredOut sent, EventMetadata metadata, CancellationToken ct)
    {
        if (!Stock.TryParseStreamName(streamId, out var sku, out var from)) return null;
        var outcome = await stock.CompleteTransfer(sku, from, sent, metadata, ct);
        return outcome.Error is { } error
            ? $"Stock transfer {sent.TransferId} of {sku} cannot reach {sent.ToLocation}: {error.Code}" : null;
    }
}
