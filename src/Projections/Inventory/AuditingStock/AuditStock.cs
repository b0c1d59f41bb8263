using MediatR;

namespace Steller.Projections.Inventory.AuditingStock;

/// <summary>
/// Every stock stream folded from the event store and compared with read.stock_levels (<see cref="StockAudit"/>):
/// `steller stock audit`. With <see cref="AsOf"/> the fold stops there and the read model is not compared.
/// </summary>
public sealed record AuditStockRequest(DateTimeOffset? AsOf) : IRequest<StockAuditReport>;

public sealed class AuditStockHandler(StockAudit audit) : IRequestHandler<AuditStockRequest, StockAuditReport>
{
    public Task<StockAuditReport> Handle(AuditStockRequest request, CancellationToken ct) => audit.Run(request.AsOf, ct);
}
