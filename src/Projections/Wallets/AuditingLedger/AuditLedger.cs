using MediatR;
using Steller.Application.Time;
using Steller.Projections.Audits;

namespace Steller.Projections.Wallets.AuditingLedger;

/// <summary>
/// Finance's replay of the ledger from the event store (<see cref="LedgerAudit"/>): POST /admin/ledger/audit, `steller ledger
/// audit` and the nightly job. With <see cref="AsOf"/> the replay stops there and the read model is not compared;
/// <see cref="Progress"/> hears the replay's progress (the CLI's progress bar). Every run is stored in read.audit_runs with
/// <see cref="Trigger"/> (<see cref="AuditTriggers"/>).
/// </summary>
public sealed record AuditLedgerRequest(DateTimeOffset? AsOf, IProgress<ReplayProgress>? Progress = null, string Trigger = AuditTriggers.Api)
    : IRequest<LedgerAuditReport>;

public sealed class AuditLedgerHandler(LedgerAudit audit, AuditRuns runs, IClock clock) : IRequestHandler<AuditLedgerRequest, LedgerAuditReport>
{
    public async Task<LedgerAuditReport> Handle(AuditLedgerRequest request, CancellationToken ct)
    {
        var started = clock.UtcNow;
        LedgerAuditReport report;
        try { report = await audit.Run(request.AsOf, request.Progress, ct); }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await runs.Record(AuditRun.Failed(AuditKinds.Ledger, null, request.Trigger, started, clock.UtcNow, $"the audit failed: {e.Message}"),
                CancellationToken.None);
            throw;
        }
        await runs.Record(AuditRun.OfLedger(report, started, clock.UtcNow, request.Trigger), ct);
        return report;
    }
}
