using Steller.Application.EventStore;
using Steller.Application.Commands;
using Steller.Application.Inventory.TransferringStock;
using Steller.Application.Serialization;
using Steller.Application.Time;
using Steller.Domain.Inventory;
using Steller.Projections.Engine;

namespace Steller.Projections.Inventory;

/// <summary>
/// Process manager: every stock.transferred-out.v1 gets its stock.transferred-in.v1 at the receiving location.
/// The transfer command does both halves at once; this finishes moves whose writer died in between. It rides the
/// projection engine for its checkpoint and leadership and owns no tables; its effect is a stock command that is
/// idempotent by transfer id, so re-running a batch (after a crash, or a rebuild) changes nothing.
/// </summary>
public sealed class StockTransferCompletion(StockTransfers stock, EventTypeRegistry registry, IClock clock) : IProjection
{
    public const string Actor = "system:stock-transfer-completion";
    public string Name => "stock_transfer_completion";
    public int Version => 1;
    public IReadOnlySet<string>? EventTypes { get; } = new HashSet<string> { "stock.transferred-out.v1" };
    public IReadOnlyList<string> Tables => [];
    public string CreateTablesSql(string schema) => "";

    public async Task Apply(IReadOnlyList<RecordedEvent> events, ProjectionContext context)
    {
        foreach (var e in events)
        {
            if (registry.Deserialize(e.Type, e.Data.Span) is not StockTransferredOut sent) continue;
            if (!Stock.TryParseStreamName(e.StreamId, out var sku, out var from)) continue;
            var metadata = new EventMetadata(e.Metadata.CorrelationId, e.EventId.ToString(), Guid.NewGuid(), Actor, clock.UtcNow);
            var outcome = await stock.CompleteTransfer(sku, from, sent, metadata, context.CancellationToken);
            // A refused receiving half would leave units in transit: stop here (the projection faults and retries) rather than skip it.
            if (outcome.Error is { } error)
                throw new InvalidOperationException($"Stock transfer {sent.TransferId} of {sku} cannot reach {sent.ToLocation}: {error.Code}");
        }
    }
}
