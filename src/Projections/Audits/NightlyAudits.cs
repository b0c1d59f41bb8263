using Dapper;
using MediatR;
using Microsoft.Extensions.Logging;
using Npgsql;
using Quartz;
using Steller.Application.Time;
using Steller.Application.Vendors;
using Steller.Infrastructure.Configuration;
using Steller.Projections.Inventory.AuditingStock;
using Steller.Projections.VendorAccounts;
using Steller.Projections.Wallets.AuditingLedger;

namespace Steller.Projections.Audits;

/// <summary>
/// The nightly audits: the ledger audit, the stock audit, the hash chain over the log, and the reconciliation of every configured vendor in every currency the
/// ledger has an account at it, each run stored in read.audit_runs (trigger "nightly"). Due once per slot (every day at
/// <see cref="AuditSettings.At"/> UTC, on the application clock): the node that moves ops.audit_schedule forward to the slot runs
/// them, so one node per night runs them whatever the number of nodes. A slot that passed while no node was up runs at the
/// next check; a node that dies mid-run leaves that night's remaining audits to the next night.
/// </summary>
public sealed class NightlyAudits(NpgsqlDataSource db, IMediator mediator, VendorReconciliation reconciliation, AuditRuns runs,
    Chain.ChainVerifier chain, IClock clock, AuditSettings settings, ILogger<NightlyAudits> logger)
{
    /// <summary>The latest nightly instant at or before <paramref name="now"/>.</summary>
    public static DateTimeOffset Slot(DateTimeOffset now, TimeSpan at)
    {
        var today = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero) + at;
        return today <= now ? today : today.AddDays(-1);
    }

    /// <summary>Recomputes the hash chain over the whole log and stores the run (an edited, deleted or inserted event: drift).</summary>
    public async Task<AuditRun> VerifyChain(CancellationToken ct)
    {
        var started = clock.UtcNow;
        AuditRun run;
        try { run = AuditRun.OfChain(await chain.Verify(ct: ct), AuditTriggers.Nightly, started, clock.UtcNow); }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogError(e, "Nightly chain verification failed");
            run = AuditRun.Failed(AuditKinds.Chain, null, AuditTriggers.Nightly, started, clock.UtcNow,
                $"the chain could not be verified: {e.GetType().Name}");
        }
        return await runs.Record(run, ct);
    }

    /// <summary>Runs the nightly audits when a slot is due and this node claims it; answers how many ran (0 when not due).</summary>
    public async Task<int> RunIfDue(CancellationToken ct)
    {
        var slot = Slot(clock.UtcNow, settings.At);
        await using (var conn = await db.OpenConnectionAsync(ct))
        {
            var claimed = await conn.ExecuteAsync(new CommandDefinition(
                "update ops.audit_schedule set last_slot = @slot where name = 'nightly' and last_slot < @slot",
                new { slot = slot.UtcDateTime }, cancellationToken: ct));
            if (claimed == 0) return 0;
        }
        logger.LogInformation("Nightly audits for {Slot:O} starting", slot);
        var ran = 0;
        var flagged = 0;
        // The audit handlers store their own runs (a failed one too, flagged): a failure here only must not stop the others.
        foreach (var (kind, audit) in new (string, Func<Task<string>>)[]
                 {
                     (AuditKinds.Ledger, async () => (await mediator.Send(new AuditLedgerRequest(null, Trigger: AuditTriggers.Nightly), ct)).Result),
                     (AuditKinds.Stock, async () => (await mediator.Send(new AuditStockRequest(null, AuditTriggers.Nightly), ct)).Result),
                     (AuditKinds.Chain, async () => (await VerifyChain(ct)).Result),
                 })
        {
            ran++;
            try { if (await audit() == "drift") flagged++; }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                flagged++;
                logger.LogError(e, "Nightly {Kind} audit failed", kind);
            }
        }
        foreach (var vendor in reconciliation.Vendors.Order(StringComparer.Ordinal))
            foreach (var currency in await reconciliation.LedgerCurrencies(vendor, ct))
            {
                var started = clock.UtcNow;
                AuditRun run;
                try
                {
                    run = AuditRun.OfReconciliation(await reconciliation.Run(vendor, currency, ct), started, clock.UtcNow,
                        AuditTriggers.Nightly);
                }
                catch (VendorUnavailableException e)
                {
                    run = AuditRun.Failed(AuditKinds.VendorReconciliation, $"{vendor}:{currency}", AuditTriggers.Nightly, started,
                        clock.UtcNow, $"the vendor's balance could not be read: {VendorText.Reason(e.Message)}");
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogError(e, "Nightly reconciliation of {Vendor} {Currency} failed", vendor, currency);
                    run = AuditRun.Failed(AuditKinds.VendorReconciliation, $"{vendor}:{currency}", AuditTriggers.Nightly, started,
                        clock.UtcNow, $"the reconciliation failed: {e.GetType().Name}");
                }
                await runs.Record(run, ct);
                ran++;
                if (run.Flagged) flagged++;
            }
        logger.LogInformation("Nightly audits for {Slot:O} done: {Runs} run(s), {Flagged} flagged", slot, ran, flagged);
        return ran;
    }
}

/// <summary>Looks every <c>Audits:CheckSeconds</c> whether the nightly audits are due (<see cref="NightlyAudits"/>).</summary>
[DisallowConcurrentExecution]
public sealed class NightlyAuditJob(NightlyAudits audits) : IJob
{
    public async ValueTask Execute(IJobExecutionContext context, CancellationToken ct) => await audits.RunIfDue(ct);
}
