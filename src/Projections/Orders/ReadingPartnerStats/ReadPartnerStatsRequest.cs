using System.Globalization;
using Dapper;
using MediatR;
using Npgsql;
using Steller.Application.Pipeline;
using Steller.Projections.Wallets;

namespace Steller.Projections.Orders.ReadingPartnerStats;

/// <summary>
/// One row of a partner's own numbers (GET /v1/stats) for one period and currency. <see cref="ProductType"/> "all" counts
/// orders exactly (read.orders); a product type row counts from read.partner_daily_stats, where an order with lines of two
/// products of that type counts once per product. Completed includes partially completed and later refunded orders;
/// <see cref="Spent"/> is captured − refunded; <see cref="SuccessRate"/> = completed / (completed + failed), null when neither.
/// Never Steller's revenue or vendor cost: those are the operator's numbers.
/// </summary>
public sealed record PartnerStatsRow(DateOnly PeriodStart, DateOnly PeriodEnd, string Currency, string ProductType, long OrdersPlaced,
    long OrdersCompleted, long OrdersFailed, long OrdersRejected, long OrdersCancelled, long Captured, long Refunded, long Spent,
    decimal? SuccessRate);

public sealed record PartnerStats(string Granularity, IReadOnlyList<PartnerStatsRow> Rows);

/// <summary>
/// The calling partner's numbers per UTC day or calendar month over days <paramref name="From"/>..<paramref name="To"/>
/// (yyyy-MM-dd, inclusive; at most <see cref="MaxDays"/> days by day, <see cref="MaxMonths"/> months by month).
/// </summary>
public sealed record ReadPartnerStatsRequest(string PartnerId, string? From, string? To, string? Granularity)
    : IRequest<PartnerStats>, IValidated
{
    public const int MaxDays = 366, MaxMonths = 36;

    public void Validate(FieldErrors errors)
    {
        errors.Check(TryDay(From, out var fromDay), "from", "required: a UTC day, yyyy-MM-dd (inclusive)")
            .Check(TryDay(To, out var toDay), "to", "required: a UTC day, yyyy-MM-dd (inclusive)")
            .Check(Granularity is null or "day" or "month", "granularity", "day or month (default day)");
        if (errors.Any) return;
        errors.Check(fromDay <= toDay, "to", "on or after 'from'");
        if (Granularity == "month")
            errors.Check((toDay.Year - fromDay.Year) * 12 + toDay.Month - fromDay.Month < MaxMonths, "to", $"at most {MaxMonths} months in all");
        else
            errors.Check(toDay.DayNumber - fromDay.DayNumber < MaxDays, "to", $"at most {MaxDays} days in all");
    }

    internal static bool TryDay(string? text, out DateOnly day) =>
        DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out day);

    public const string CsvHeader =
        "period_start,period_end,currency,product_type,orders_placed,orders_completed,orders_failed,orders_rejected,orders_cancelled,"
        + "captured,refunded,spent,success_rate";

    public static IEnumerable<string> Csv(PartnerStats stats)
    {
        yield return CsvHeader;
        foreach (var r in stats.Rows)
            yield return string.Join(',', r.PeriodStart.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                r.PeriodEnd.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), r.Currency, r.ProductType,
                r.OrdersPlaced.ToString(CultureInfo.InvariantCulture), r.OrdersCompleted.ToString(CultureInfo.InvariantCulture),
                r.OrdersFailed.ToString(CultureInfo.InvariantCulture), r.OrdersRejected.ToString(CultureInfo.InvariantCulture),
                r.OrdersCancelled.ToString(CultureInfo.InvariantCulture), r.Captured.ToString(CultureInfo.InvariantCulture),
                r.Refunded.ToString(CultureInfo.InvariantCulture), r.Spent.ToString(CultureInfo.InvariantCulture),
                r.SuccessRate?.ToString(CultureInfo.InvariantCulture) ?? "");
    }
}

public sealed class ReadPartnerStatsHandler(NpgsqlDataSource dataSource) : IRequestHandler<ReadPartnerStatsRequest, PartnerStats>
{
    public async Task<PartnerStats> Handle(ReadPartnerStatsRequest r, CancellationToken ct)
    {
        ReadPartnerStatsRequest.TryDay(r.From, out var from);
        ReadPartnerStatsRequest.TryDay(r.To, out var to);
        var granularity = r.Granularity ?? "day";
        var args = new
        {
            partnerId = r.PartnerId, g = granularity, step = granularity == "day" ? "1 day" : "1 month",
            from = from.ToDateTime(TimeOnly.MinValue), to = to.ToDateTime(TimeOnly.MinValue),
        };
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        try
        {
            // Exact per order from read.orders ("all"), then per product type from the daily stats. The range is rounded out
            // to whole periods, so a month row always covers its whole month.
            var rows = await conn.QueryAsync<Row>(new CommandDefinition("""
                with bounds as (select date_trunc(@g, @from::timestamp) as lo, date_trunc(@g, @to::timestamp) + @step::interval as hi)
                select date_trunc(@g, o.placed_at at time zone 'UTC') as PeriodStart, coalesce(o.currency, '') as Currency,
                       'all' as ProductType, count(*) as OrdersPlaced,
                       count(*) filter (where o.status in ('Completed', 'PartiallyCompleted', 'Refunded', 'PartiallyRefunded')) as OrdersCompleted,
                       count(*) filter (where o.status = 'Failed') as OrdersFailed,
                       count(*) filter (where o.status = 'Rejected') as OrdersRejected,
                       count(*) filter (where o.status = 'Cancelled') as OrdersCancelled,
                       coalesce(sum(o.captured), 0)::bigint as Captured, coalesce(sum(o.refunded), 0)::bigint as Refunded
                  from read.orders o, bounds b
                 where o.partner_id = @partnerId
                   and o.placed_at >= b.lo at time zone 'UTC' and o.placed_at < b.hi at time zone 'UTC'
                 group by 1, 2
                union all
                select date_trunc(@g, s.day::timestamp), s.currency, coalesce(c.product_type, 'unknown'),
                       sum(s.orders_placed)::bigint, sum(s.orders_completed)::bigint, sum(s.orders_failed)::bigint,
                       sum(s.orders_rejected)::bigint, sum(s.orders_cancelled)::bigint, sum(s.captured)::bigint, sum(s.refunded)::bigint
                  from read.partner_daily_stats s
                  cross join bounds b
                  left join read.catalog_products c on c.sku = s.sku
                 where s.partner_id = @partnerId and s.day >= b.lo::date and s.day < b.hi::date and s.currency <> ''
                 group by 1, 2, 3
                 order by 1, 2, 3
                """, args, cancellationToken: ct));
            return new PartnerStats(granularity, rows.Select(x =>
            {
                var start = DateOnly.FromDateTime(x.PeriodStart);
                var end = granularity == "day" ? start.AddDays(1) : start.AddMonths(1);
                decimal? rate = x.OrdersCompleted + x.OrdersFailed == 0 ? null
                    : Math.Round((decimal)x.OrdersCompleted / (x.OrdersCompleted + x.OrdersFailed), 4);
                return new PartnerStatsRow(start, end, x.Currency, x.ProductType, x.OrdersPlaced, x.OrdersCompleted, x.OrdersFailed,
                    x.OrdersRejected, x.OrdersCancelled, x.Captured, x.Refunded, checked(x.Captured - x.Refunded), rate);
            }).ToList());
        }
        catch (Exception e) when (ReadModelNotReadyException.Is(e)) { throw new ReadModelNotReadyException("read.orders", e); }
    }

    private sealed record Row(DateTime PeriodStart, string Currency, string ProductType, long OrdersPlaced, long OrdersCompleted,
        long OrdersFailed, long OrdersRejected, long OrdersCancelled, long Captured, long Refunded);
}
