using Dapper;
using MediatR;
using Npgsql;

namespace Steller.Projections.Orders.ReadingVendorHealth;

/// <summary>A vendor over the last hour: calls, errors (no answer or 5xx), 429s, latency percentiles and its last complete catalog sync.</summary>
public sealed record VendorHealth(string Vendor, long Calls, long Errors, long RateLimited, double? P50Ms, double? P95Ms, double? P99Ms,
    DateTime? LastCallAt, DateTime? LastCatalogSyncAt, int? LastCatalogProducts);

/// <summary>read.vendor_health, one row per vendor, ordered by vendor.</summary>
public sealed record ReadVendorHealthRequest : IRequest<IReadOnlyList<VendorHealth>>;

public sealed class ReadVendorHealthHandler(NpgsqlDataSource db) : IRequestHandler<ReadVendorHealthRequest, IReadOnlyList<VendorHealth>>
{
    public async Task<IReadOnlyList<VendorHealth>> Handle(ReadVendorHealthRequest request, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<VendorHealth>(new CommandDefinition("""
            select vendor, calls, errors, rate_limited as RateLimited, p50_ms as P50Ms, p95_ms as P95Ms, p99_ms as P99Ms,
                   last_call_at as LastCallAt, last_catalog_sync_at as LastCatalogSyncAt, last_catalog_products as LastCatalogProducts
            from read.vendor_health order by vendor
            """, cancellationToken: ct));
        return rows.ToList();
    }
}
