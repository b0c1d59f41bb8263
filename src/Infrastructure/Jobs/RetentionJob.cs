using Microsoft.Extensions.Logging;
using Npgsql;
using Quartz;
using Steller.Infrastructure.Configuration;

namespace Steller.Infrastructure.Jobs;

/// <summary>
/// Bounded growth of the operational tables (never events or read models): deletes rows older than their retention
/// (<see cref="RetentionSettings"/>). Each table is purged in slices of <see cref="SliceSize"/> rows, each slice its own
/// short statement, so a large backlog never becomes one long write transaction (which would hold back the log).
/// </summary>
public sealed class OperationalRetention(NpgsqlDataSource db, RetentionSettings settings, ILogger<OperationalRetention> logger)
{
    public const int SliceSize = 5_000;

    /// <summary>What one purge deleted, per table.</summary>
    public sealed record Purged(long VendorCalls, long CatalogSyncs, long AdminAudit, long CheckoutItems = 0, long PartnerRequests = 0);

    public async Task<Purged> Purge(DateTimeOffset now, CancellationToken ct)
    {
        var vendorCalls = await Sliced("""
            delete from ops.vendor_calls where id in (select id from ops.vendor_calls where at < $1 limit $2)
            """, now.AddDays(-settings.VendorCallsDays), ct);
        // The latest sync of each vendor stays whatever its age: vendor health shows when the catalog was last read.
        var catalogSyncs = await Sliced("""
            delete from ops.vendor_catalog_syncs where id in (
                select id from ops.vendor_catalog_syncs s where s.at < $1
                   and s.id <> (select l.id from ops.vendor_catalog_syncs l where l.vendor = s.vendor order by l.at desc, l.id desc limit 1)
                 limit $2)
            """, now.AddDays(-settings.CatalogSyncsDays), ct);
        var adminAudit = await Sliced("""
            delete from steller.admin_audit where id in (select id from steller.admin_audit where at < $1 limit $2)
            """, now.AddDays(-settings.AdminAuditDays), ct);
        var checkoutItems = await Sliced("""
            delete from ops.vendor_checkout_items where line_request_id in (
                select line_request_id from ops.vendor_checkout_items where at < $1 limit $2)
            """, now.AddDays(-settings.CheckoutBatchesDays), ct);
        var partnerRequests = await Sliced("""
            delete from steller.partner_requests where id in (select id from steller.partner_requests where at < $1 limit $2)
            """, now.AddDays(-settings.PartnerRequestsDays), ct);
        var purged = new Purged(vendorCalls, catalogSyncs, adminAudit, checkoutItems, partnerRequests);
        if (vendorCalls + catalogSyncs + adminAudit + checkoutItems + partnerRequests > 0)
            logger.LogInformation("Retention purge: {VendorCalls} vendor call(s), {CatalogSyncs} catalog sync(s), {AdminAudit} admin audit row(s), "
                + "{CheckoutItems} shared-checkout line(s), {PartnerRequests} partner request log row(s)", vendorCalls, catalogSyncs, adminAudit,
                checkoutItems, partnerRequests);
        return purged;
    }

    private async Task<long> Sliced(string sql, DateTimeOffset before, CancellationToken ct)
    {
        long total = 0;
        while (true)
        {
            await using var cmd = db.CreateCommand(sql);
            cmd.Parameters.AddWithValue(before.UtcDateTime);
            cmd.Parameters.AddWithValue(SliceSize);
            var deleted = await cmd.ExecuteNonQueryAsync(ct);
            total += deleted;
            if (deleted < SliceSize) return total;
        }
    }
}

/// <summary>Runs <see cref="OperationalRetention"/> every <c>Retention:PurgeMinutes</c> (or <c>Retention:PurgeSeconds</c>).</summary>
[DisallowConcurrentExecution]
public sealed class RetentionJob(OperationalRetention retention) : IJob
{
    public async ValueTask Execute(IJobExecutionContext context, CancellationToken ct) => await retention.Purge(DateTimeOffset.UtcNow, ct);
}
