using MediatR;

namespace Steller.Projections.Wallets.AuditingLedger;

/// <summary>
/// Finance's replay of the ledger from the event store (<see cref="LedgerAudit"/>): POST /admin/ledger/audit and
/// `steller ledger audit`. With <see cref="AsOf"/> the replay stops there and the read model is not compared;
/// <see cref="Progress"/> hears the replay's progress (the CLI's progress bar).
/// </summary>
public sealed record AuditLedgerRequest(DateTimeOffset? AsOf, IProgress<ReplayProgress>? Progress = null) : IRequest<LedgerAuditReport>;

public sealed class AuditLedgerHandler(LedgerAudit audit) : IRequestHandler<AuditLedgerRequest, LedgerAuditReport>
{
    public Task<LedgerAuditReport> Handle(AuditLedgerRequest request, CancellationToken ct) => audit.Run(request.AsOf, request.Progress, ct);
}
