using Dapper;
using MediatR;
using Npgsql;
using Steller.Domain.Orders;

namespace Steller.Projections.Orders.ReadingVendorHealth;

/// <summary>
/// A vendor over the last hour: calls, errors (no answer or 5xx), 429s, latency percentiles and its last complete catalog
/// sync; and <see cref="Queued"/>: its order lines in flight that are not final yet (the queue that fills its budget).
/// </summary>
public sealed record VendorHealth(string Vendor, long Calls, long Errors, long RateLimited, double? P50Ms, double? P95Ms, double? P99Ms,
    DateTime? LastCallAt, DateTime? LastCatalogSyncAt, int? LastCatalogProducts, long Queued = 0);

/// <summary>read.vendor_health, one row per vendor, ordered by vendor, with each vendor's queue from read.order_lines.</summary>
public sealed record ReadVendorHealthRequest : IRequest<IReadOnlyList<VendorHealth>>;

public sealed class ReadVendorHealthHandler(NpgsqlDataSource db) : IRequestHandler<ReadVendorHealthRequest, IReadOnlyList<VendorHealth>>
{
    public async Task<IReadOnlyList<VendorHealth>> Handle(ReadVendorHealthRequest request, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<VendorHealth>(new CommandDefinition("""
            select vendor, calls, errors, rate_limited as RateLimited, p50_ms as P50Ms, p95_ms as P95Ms, p99_ms as P99Ms,
                   last_call_at as LastCallAt, last_catalog_sync_at as LastCatalogSyncAt, last_catalog_products as LastCatalogProducts, 0::bigint as Queued
            from read.vendor_health order by vendor
            """, cancellationToken: ct));
        var queues = new Dictionary<string, long>();
        try
        {
            queues = (await conn.QueryAsync<(string Vendor, long Queued)>(new CommandDefinition("""
                select l.source, count(*)
                  from read.orders o join read.order_lines l on l.order_id = o.order_id
                 where o.status in ('FundsHeld', 'Submitted') and l.delivered is null and l.source <> @stocked
                 group by l.source
                """, new { stocked = LineSources.Stocked }, cancellationToken: ct))).ToDictionary(q => q.Vendor, q => q.Queued);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable) { } // read.orders is still being built
        return rows.Select(r => r with { Queued = queues.GetValueOrDefault(r.Vendor) }).ToList();
    }
}
