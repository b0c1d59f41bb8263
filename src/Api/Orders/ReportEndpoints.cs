using MediatR;
using Steller.Api.Admin;
using Steller.Api.Http;
using Steller.Infrastructure.Admin;
using Steller.Projections.Finance.ReadingPnl;
using Steller.Projections.Orders;
using Steller.Projections.Orders.ReadingDailyStats;
using Steller.Projections.Orders.ReadingVendorHealth;
using Steller.Projections.Orders.ViewingOverview;
using Steller.Projections.Partners;
using Steller.Projections.Partners.ReadingGrowth;

namespace Steller.Api.Orders;

/// <summary>Analysts' and operators' views over the read models: partner daily stats, monthly P&amp;L, growth and vendor health.</summary>
public sealed class ReportEndpoints : IEndpointModule
{
    public const int MaxDays = ReadDailyStatsRequest.MaxDays;

    public void Map(IEndpointRouteBuilder app)
    {
        var admin = AdminEndpoints.Group(app).WithTags("Reports (admin)");

        admin.MapGet("/reports/partner-daily-stats",
                async (string? partnerId, string? from, string? to, HttpContext http, IMediator mediator, CancellationToken ct) =>
                {
                    var rows = await mediator.Send(new ReadDailyStatsRequest(partnerId, from, to), ct);
                    return Csv.Wanted(http.Request)
                        ? await Csv.Lines(http, "partner-daily-stats.csv", DailyStatsCsv(rows), ct)
                        : Results.Ok(rows);
                })
            .WithSummary(
                "read.partner_daily_stats per partner, UTC day of placement and sku: orders placed/completed/failed/rejected/cancelled, "
                + "face value, partner spend, revenue, vendor cost, margin, success rate.")
            .Produces<IReadOnlyList<PartnerDailyStat>>().Produces(200, contentType: "text/csv").RequireRoles(AdminRoles.Finance, AdminRoles.Analyst, AdminRoles.Support);

        admin.MapGet("/reports/growth",
                async (string? from, string? to, string? granularity, HttpContext http, IMediator mediator, CancellationToken ct) =>
                {
                    var report = await mediator.Send(new ReadGrowthRequest(from, to, granularity), ct);
                    return Csv.Wanted(http.Request)
                        ? await Csv.Lines(http, $"growth-{report.Granularity}.csv", PartnersQuery.GrowthCsv(report), ct)
                        : Results.Ok(report);
                })
            .WithSummary(
                "Growth per ISO week or calendar month (UTC) over from..to (days, inclusive, rounded out to whole periods): partners "
                + "onboarded, activated (first completed order, partner.activated.v1), median hours from onboarding to that first "
                + "completed order, active partners (a completed order placed in the period) and revenue per currency. "
                + "Accept: text/csv answers one line per period and currency.")
            .Produces<GrowthReport>().Produces(200, contentType: "text/csv").ProducesProblem(400)
            .RequireRoles(AdminRoles.Finance, AdminRoles.Analyst, AdminRoles.Support);

        admin.MapGet("/reports/pnl",
                async (string? from, string? to, string? partner, string? currency, HttpContext http, IMediator mediator, CancellationToken ct) =>
                {
                    var rows = await mediator.Send(new ReadPnlRequest(from, to, partner, currency), ct);
                    return Csv.Wanted(http.Request)
                        ? await Csv.Lines(http, "pnl-monthly.csv", ReadPnlHandler.Csv(rows), ct)
                        : Results.Ok(rows);
                })
            .WithSummary(
                "read.pnl_monthly over the UTC months from..to (yyyy-MM, inclusive, at most 120), optionally of one partner (partner=) "
                + "and/or one currency (currency=); one row per month, partner, product type, vendor and currency ('' where not "
                + "attributable to an order line), minor units: sales (captures), vendor cost, refunds to partners, vendor refunds, "
                + "margin (sales − vendor cost) and net (sales − refunds − vendor cost + vendor refunds; per month and currency, the "
                + "movement of platform:revenue). Accept: text/csv answers the same rows as CSV.")
            .Produces<IReadOnlyList<PnlMonth>>().Produces(200, contentType: "text/csv").ProducesProblem(400)
            .RequireRoles(AdminRoles.Finance, AdminRoles.Analyst, AdminRoles.Support);

        admin.MapGet("/overview", async (IMediator mediator, CancellationToken ct) => Results.Ok(await mediator.Send(new ReadOverviewRequest(), ct)))
            .WithSummary("The day at a glance (read models, UTC day): today's orders by status and money per currency (captured, "
                         + "refunded, revenue, margin, vendor cost), failed today, stuck now (not final, unchanged for "
                         + "Orders:StuckAfterMinutes), vendors in brief, low-stock items, partner prices below cost, and alerts not closed by kind.")
            .Produces<Overview>().RequireRoles(AdminRoles.Finance, AdminRoles.Analyst, AdminRoles.Support);

        admin.MapGet("/vendors/health", async (IMediator mediator, CancellationToken ct) =>
                Results.Ok(await mediator.Send(new ReadVendorHealthRequest(), ct)))
            .WithSummary(
                "read.vendor_health: per vendor over the last hour, calls, errors (no answer or 5xx), 429s, latency percentiles, and the "
                + "last complete catalog sync; queued: its order lines in flight and not final yet (new orders for it are refused as "
                + "vendor_busy while the queue is as long as its budget serves before the pending-order timeout).")
            .Produces<IReadOnlyList<VendorHealth>>().RequireRoles(AdminRoles.Finance, AdminRoles.Analyst, AdminRoles.Support);
    }

    public const string DailyStatsCsvHeader = "partner_id,day,sku,currency,orders_placed,orders_completed,orders_failed,orders_rejected,"
        + "orders_cancelled,units_delivered,face_value,captured,refunded,partner_spend,revenue,vendor_cost,margin,success_rate";

    /// <summary>read.partner_daily_stats as CSV (Accept: text/csv), one line per row, the header first.</summary>
    public static IEnumerable<string> DailyStatsCsv(IEnumerable<PartnerDailyStat> rows)
    {
        yield return DailyStatsCsvHeader;
        var c = System.Globalization.CultureInfo.InvariantCulture;
        foreach (var r in rows)
            yield return string.Join(',', r.PartnerId, r.Day.ToString("yyyy-MM-dd", c), Projections.Wallets.Statements.WalletStatementQuery.Csv(r.Sku), r.Currency,
                r.OrdersPlaced.ToString(c), r.OrdersCompleted.ToString(c), r.OrdersFailed.ToString(c), r.OrdersRejected.ToString(c),
                r.OrdersCancelled.ToString(c), r.UnitsDelivered.ToString(c), r.FaceValue.ToString(c), r.Captured.ToString(c),
                r.Refunded.ToString(c), r.PartnerSpend.ToString(c), r.Revenue.ToString(c), r.VendorCost.ToString(c), r.Margin.ToString(c),
                r.SuccessRate?.ToString(c) ?? "");
    }
}
