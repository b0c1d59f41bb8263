using Dapper;
using MediatR;
using Npgsql;
using Steller.Application.Time;
using Steller.Infrastructure.Configuration;
using Steller.Projections.Orders.ReadingVendorHealth;
using Steller.Projections.Wallets;

namespace Steller.Projections.Orders.ViewingOverview;

/// <summary>Today's money in one currency: captured from partners, refunded, Steller's revenue and margin, vendor cost.</summary>
public sealed record OverviewMoney(string Currency, long Captured, long Refunded, long Revenue, long Margin, long VendorCost);

/// <summary>One vendor in brief: calls, errors and 429s over the last hour, and its queue.</summary>
public sealed record OverviewVendor(string Vendor, long Calls, long Errors, long RateLimited, long Queued);

/// <summary>
/// The operator's day at a glance (GET /admin/overview), from the read models: today's orders (UTC day of placement) by
/// status and money per currency, the failed ones today, the stuck ones now (not final, no change for
/// Orders:StuckAfterMinutes), vendors in brief, how many stock items are low and partner prices below cost, and the alerts
/// not closed (open or acknowledged) by kind.
/// </summary>
public sealed record Overview(DateOnly Day, DateTime AsOf, IReadOnlyDictionary<string, long> OrdersByStatus, long FailedToday,
    long Stuck, IReadOnlyList<OverviewMoney> Money, IReadOnlyList<OverviewVendor> Vendors, long LowStockItems, long NegativeMarginPrices,
    IReadOnlyDictionary<string, long> OpenAlertsByKind);

public sealed record ReadOverviewRequest : IRequest<Overview>;

public sealed class ReadOverviewHandler(NpgsqlDataSource dataSource, IMediator mediator, OrderSettings settings, IClock clock)
    : IRequestHandler<ReadOverviewRequest, Overview>
{
    public async Task<Overview> Handle(ReadOverviewRequest request, CancellationToken ct)
    {
        var now = clock.UtcNow;
        var day = DateOnly.FromDateTime(now.UtcDateTime);
        var args = new
        {
            dayStart = day.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc), day = day.ToDateTime(TimeOnly.MinValue),
            stuckSince = (now - TimeSpan.FromMinutes(settings.StuckAfterMinutes)).UtcDateTime,
        };
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        try
        {
            var byStatus = (await conn.QueryAsync<(string Status, long Count)>(new CommandDefinition("""
                select status, count(*) from read.orders where placed_at >= @dayStart group by status order by status
                """, args, cancellationToken: ct))).ToDictionary(r => r.Status, r => r.Count);
            var stuck = await conn.ExecuteScalarAsync<long>(new CommandDefinition("""
                select count(*) from read.orders where status in ('Placed', 'FundsHeld', 'Submitted') and updated_at < @stuckSince
                """, args, cancellationToken: ct));
            var money = (await conn.QueryAsync<OverviewMoney>(new CommandDefinition("""
                select currency as Currency, sum(captured)::bigint as Captured, sum(refunded)::bigint as Refunded,
                       sum(revenue)::bigint as Revenue, sum(margin)::bigint as Margin, sum(vendor_cost)::bigint as VendorCost
                  from read.partner_daily_stats where day = @day::date and currency <> '' group by currency order by currency
                """, args, cancellationToken: ct))).ToList();
            var lowStock = await conn.ExecuteScalarAsync<long>(new CommandDefinition("select count(*) from read.low_stock", cancellationToken: ct));
            var negative = await conn.ExecuteScalarAsync<long>(new CommandDefinition(
                "select count(*) from read.negative_margin_products", cancellationToken: ct));
            var alerts = (await conn.QueryAsync<(string Kind, long Count)>(new CommandDefinition(
                "select kind, count(*) from read.alerts where status <> 'closed' group by kind order by kind", cancellationToken: ct)))
                .ToDictionary(r => r.Kind, r => r.Count);
            var vendors = (await mediator.Send(new ReadVendorHealthRequest(), ct))
                .Select(v => new OverviewVendor(v.Vendor, v.Calls, v.Errors, v.RateLimited, v.Queued)).ToList();
            return new Overview(day, now.UtcDateTime, byStatus, byStatus.GetValueOrDefault("Failed"), stuck, money, vendors, lowStock, negative, alerts);
        }
        catch (Exception e) when (ReadModelNotReadyException.Is(e)) { throw new ReadModelNotReadyException("read.orders", e); }
    }
}
