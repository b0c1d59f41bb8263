using MediatR;
using Steller.Application.Time;
using Steller.Projections.Audits;

namespace Steller.Projections.Inventory.AuditingStock;

/// <summary>
/// Every stock stream folded from the event store and compared with read.stock_levels (<see cref="StockAudit"/>):
/// `steller stock audit` and the nightly job. With <see cref="AsOf"/> the fold stops there and the read model is not compared.
/// Every run is stored in read.audit_runs with <see cref="Trigger"/> (<see cref="AuditTriggers"/>).
/// </summary>
public sealed record AuditStockRequest(DateTimeOffset? AsOf, string Trigger = AuditTriggers.Api) : IRequest<StockAuditReport>;

public sealed class AuditStockHandler(StockAudit audit, AuditRuns runs, IClock clock) : IRequestHandler<AuditStockRequest, StockAuditReport>
{
    public async Task<StockAuditReport> Handle(AuditStockRequest request, CancellationToken ct)
    {
        var started = clock.UtcNow;
        StockAuditReport report;
        try { report = await audit.Run(request.AsOf, ct); }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await runs.Record(AuditRun.Failed(AuditKinds.Stock, null, request.Trigger, started, clock.UtcNow, $"the audit failed: {e.Message}"),
                CancellationToken.None);
            throw;
        }
        await runs.Record(AuditRun.OfStock(report, started, clock.UtcNow, request.Trigger), ct);
        return report;
    }
}
