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
/// The nightly audits: the ledger audit, the stock audit and the reconciliation of every configured vendor in every currency the
/// ledger has an account at it, each run stored in read.audit_runs (trigger "nightly"). Due once per slot (every day at
/// <see cref="AuditSettings.At"/> UTC, on the application clock): the node that moves ops.audit_schedule forward to the slot runs
/// them, so one node per night runs them whatever the number of nodes. A slot that passed while no node was up runs at the
/// next check; a node that dies mid-run leaves that night's remaining audits to the next night.
/// </summary>
public sealed class NightlyAudits(NpgsqlDataSource db, IMediator mediator, VendorReconciliation reconciliation, AuditRuns runs,
    IClock clock, AuditSettings settings, ILogger<NightlyAudits> logger)
{
    /// <summary>The latest nightly instant at or before <paramref name="now"/>.</summary>
    public static DateTimeOffset Slot(DateTimeOffset now, TimeSpan at)
    {
        var today = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero) + at;
        return today <= now ? today : today.AddDays(-1);
    }

    /// <summary>Runs the nightly audits when a slot is due and this node claims it; answers the runs stored (none when not due).</summary>
    public async Task<IReadOnlyList<AuditRun>> RunIfDue(CancellationToken ct)
    {
        var slot = Slot(clock.UtcNow, settings.At);
        await using (var conn = await db.OpenConnectionAsync(ct))
        {
            var claimed = await conn.ExecuteAsync(new CommandDefinition(
                "update ops.audit_schedule set last_slot = @slot where name = 'nightly' and last_slot < @slot",
                new { slot = slot.UtcDateTime }, cancellationToken: ct));
            if (claimed == 0) return [];
        }
        logger.LogInformation("Nightly audits for {Slot:O} starting", slot);
        var stored = new List<AuditRun>();
        await Guarded(AuditKinds.Ledger, null, async () =>
            await mediator.Send(new AuditLedgerRequest(null, Trigger: AuditTriggers.Nightly), ct), stored, ct);
        await Guarded(AuditKinds.Stock, null, async () =>
            await mediator.Send(new AuditStockRequest(null, AuditTriggers.Nightly), ct), stored, ct);
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
                stored.Add(await runs.Record(run, ct));
            }
        logger.LogInformation("Nightly audits for {Slot:O} done: {Runs} run(s), {Flagged} flagged", slot, stored.Count,
            stored.Count(r => r.Flagged));
        return stored;
    }

    /// <summary>The audit handlers store their own runs (failed ones too); a failure here must not stop the other audits.</summary>
    private async Task Guarded(string kind, string? subject, Func<Task> run, List<AuditRun> stored, CancellationToken ct)
    {
        try
        {
            await run();
            if ((await runs.Page(kind, 1, null, ct)).Items is [var last]) stored.Add(last);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogError(e, "Nightly {Kind} audit {Subject} failed", kind, subject);
        }
    }
}

/// <summary>Looks every <c>Audits:CheckSeconds</c> whether the nightly audits are due (<see cref="NightlyAudits"/>).</summary>
[DisallowConcurrentExecution]
public sealed class NightlyAuditJob(NightlyAudits audits) : IJob
{
    public Task Execute(IJobExecutionContext context) => audits.RunIfDue(context.CancellationToken);
}
