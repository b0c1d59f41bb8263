using Steller.Application.Pipeline;
using Dapper;
using Npgsql;
using Steller.Api.Admin;
using Steller.Api.Http;
using Steller.Infrastructure.Admin;
using Steller.Projections.Orders;
using Steller.Projections.Wallets;

namespace Steller.Api.Orders;

/// <summary>Analysts' and operators' views over the read models: partner daily stats and vendor health.</summary>
public sealed class ReportEndpoints : IEndpointModule
{
    public sealed record VendorHealth(string Vendor, long Calls, long Errors, long RateLimited, double? P50Ms, double? P95Ms, double? P99Ms,
        DateTime? LastCallAt, DateTime? LastCatalogSyncAt, int? LastCatalogProducts);

    public const int MaxDays = 366;

    public void Map(IEndpointRouteBuilder app)
    {
        var admin = AdminEndpoints.Group(app).WithTags("Reports (admin)");

        admin.MapGet("/reports/partner-daily-stats",
                async (string? partnerId, string? from, string? to, OrdersQuery query, CancellationToken ct) =>
        {
            var errors = new FieldErrors()
                .Check(partnerId is null || Domain.Partners.Partner.IsValidId(partnerId), "partnerId", "a partner id")
                .Check(DateOnly.TryParseExact(from, "yyyy-MM-dd", out var fromDay), "from", "required: a UTC day, yyyy-MM-dd (inclusive)")
                .Check(DateOnly.TryParseExact(to, "yyyy-MM-dd", out var toDay), "to", "required: a UTC day, yyyy-MM-dd (inclusive)");
            if (!errors.Any) errors.Check(fromDay <= toDay && toDay.DayNumber - fromDay.DayNumber < MaxDays,
                "to", $"on or after 'from', at most {MaxDays} days in all");
            if (errors.Any) return errors.Problem();
            return Results.Ok(await query.DailyStats(partnerId, fromDay, toDay, ct));
        })
            .WithSummary(
                "read.partner_daily_stats per partner, UTC day of placement and sku: orders placed/completed/failed/rejected/cancelled, "
                + "face value, partner spend, revenue, vendor cost, margin, success rate.")
            .Produces<IReadOnlyList<PartnerDailyStat>>().RequireRoles(AdminRoles.Finance, AdminRoles.Analyst, AdminRoles.Support);

        admin.MapGet("/vendors/health", async (NpgsqlDataSource db, CancellationToken ct) =>
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            var rows = await conn.QueryAsync<VendorHealth>(new CommandDefinition("""
                select vendor, calls, errors, rate_limited as RateLimited, p50_ms as P50Ms, p95_ms as P95Ms, p99_ms as P99Ms,
                       last_call_at as LastCallAt, last_catalog_sync_at as LastCatalogSyncAt, last_catalog_products as LastCatalogProducts
                from read.vendor_health order by vendor
                """, cancellationToken: ct));
            return Results.Ok(rows.ToList());
        })
            .WithSummary(
                "read.vendor_health: per vendor over the last hour, calls, errors (no answer or 5xx), 429s, latency percentiles, and the "
                + "last complete catalog sync.")
            .Produces<IReadOnlyList<VendorHealth>>().RequireRoles(AdminRoles.Finance, AdminRoles.Analyst, AdminRoles.Support);
    }
}
