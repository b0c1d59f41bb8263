using System.Globalization;
using Dapper;
using Npgsql;
using Steller.Projections.Inventory;
using Steller.Projections.Wallets;

namespace Steller.Projections.Partners;

/// <summary>A partner as read.partners holds it.</summary>
public sealed record PartnerSummary(string PartnerId, string Name, string? ParentPartnerId, string Status, DateTime OnboardedAt,
    DateTime? ActivatedAt, string? FirstOrderId);

public sealed record PartnerPage(IReadOnlyList<PartnerSummary> Items, string? Next);

/// <summary>One period of the growth report; revenue is per currency (minor units), never summed across currencies.</summary>
public sealed record GrowthPeriod(DateOnly PeriodStart, DateOnly PeriodEnd, long Onboarded, long Activated,
    decimal? MedianHoursToFirstOrder, long ActivePartners, IReadOnlyList<CurrencyAmount> Revenue);

public sealed record CurrencyAmount(string Currency, long Amount);

public sealed record GrowthReport(string Granularity, IReadOnlyList<GrowthPeriod> Periods);

/// <summary>
/// Reads read.partners: the operators' partner search (GET /admin/partners) and the growth report
/// (GET /admin/reports/growth, with read.partner_daily_stats for active partners and revenue).
/// </summary>
public sealed class PartnersQuery(NpgsqlDataSource dataSource)
{
    public const int DefaultLimit = 50, MaxLimit = 500;
    private const string CursorPrefix = "p:";

    public static string Cursor(string partnerId) => OpaqueCursor.Encode(CursorPrefix + partnerId);

    public static bool TryCursor(string? cursor, out string? afterPartnerId)
    {
        afterPartnerId = null;
        if (cursor is null) return true;
        if (!OpaqueCursor.TryDecode(cursor, out var text) || !text.StartsWith(CursorPrefix, StringComparison.Ordinal)) return false;
        afterPartnerId = text[CursorPrefix.Length..];
        return afterPartnerId.Length > 0;
    }

    /// <summary>
    /// Partners by id. <paramref name="q"/> matches a partner id prefix or any part of the name, case-insensitively
    /// (LIKE wildcards in it are taken literally).
    /// </summary>
    public async Task<PartnerPage> Page(string? q, string? status, int limit, string? afterPartnerId, CancellationToken ct)
    {
        var pattern = q is null ? null : q.ToLowerInvariant().Replace(@"\", @"\\").Replace("%", @"\%").Replace("_", @"\_");
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        try
        {
            var rows = (await conn.QueryAsync<PartnerSummary>(new CommandDefinition("""
                select partner_id as PartnerId, name as Name, parent_partner_id as ParentPartnerId, status as Status,
                       onboarded_at as OnboardedAt, activated_at as ActivatedAt, first_order_id as FirstOrderId
                  from read.partners
                 where (@pattern::text is null or partner_id like @pattern || '%' or lower(name) like '%' || @pattern || '%')
                   and (@status::text is null or status = @status)
                   and (@after::text is null or partner_id > @after)
                 order by partner_id
                 limit @take
                """, new { pattern, status, after = afterPartnerId, take = limit + 1 }, cancellationToken: ct))).ToList();
            var next = rows.Count > limit ? Cursor(rows[limit - 1].PartnerId) : null;
            return new PartnerPage(rows.Take(limit).ToList(), next);
        }
        catch (Exception e) when (ReadModelNotReadyException.Is(e)) { throw new ReadModelNotReadyException("read.partners", e); }
    }

    /// <summary>
    /// The growth report over whole periods (ISO weeks from Monday, or calendar months, UTC) covering
    /// <paramref name="from"/>..<paramref name="to"/> (days, inclusive): partners onboarded, activated (first completed
    /// order), the median hours from onboarding to that first completed order among those activated in the period,
    /// active partners (a completed order placed in the period) and revenue per currency.
    /// </summary>
    public async Task<GrowthReport> Growth(DateOnly from, DateOnly to, string granularity, CancellationToken ct)
    {
        if (granularity is not ("week" or "month")) throw new ArgumentException("granularity must be week or month", nameof(granularity));
        var step = granularity == "week" ? "1 week" : "1 month";
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        try
        {
            var args = new { from = from.ToDateTime(TimeOnly.MinValue), to = to.ToDateTime(TimeOnly.MinValue), g = granularity, step };
            var periods = (await conn.QueryAsync<(DateTime Start, DateTime End, long Onboarded, long Activated, decimal? Median, long Active)>(
                new CommandDefinition("""
                with periods as (
                    select p as ps, p + @step::interval as pe
                      from generate_series(date_trunc(@g, @from::timestamp), date_trunc(@g, @to::timestamp), @step::interval) p)
                select ps, pe,
                       (select count(*) from read.partners where onboarded_at >= ps at time zone 'UTC' and onboarded_at < pe at time zone 'UTC'),
                       (select count(*) from read.partners where activated_at >= ps at time zone 'UTC' and activated_at < pe at time zone 'UTC'),
                       (select round(percentile_cont(0.5) within group (
                                   order by extract(epoch from activated_at - onboarded_at) / 3600)::numeric, 2)
                          from read.partners where activated_at >= ps at time zone 'UTC' and activated_at < pe at time zone 'UTC'),
                       (select count(distinct partner_id) from read.partner_daily_stats
                         where day >= ps::date and day < pe::date and orders_completed > 0)
                  from periods order by ps
                """, args, cancellationToken: ct))).ToList();
            var revenue = (await conn.QueryAsync<(DateTime Start, string Currency, long Amount)>(new CommandDefinition("""
                select date_trunc(@g, day::timestamp), currency, sum(revenue)::bigint
                  from read.partner_daily_stats
                 where day >= date_trunc(@g, @from::timestamp)::date and day < (date_trunc(@g, @to::timestamp) + @step::interval)::date
                   and currency <> ''
                 group by 1, 2 order by 1, 2
                """, args, cancellationToken: ct))).ToLookup(r => r.Start);
            return new GrowthReport(granularity, periods.Select(p => new GrowthPeriod(DateOnly.FromDateTime(p.Start), DateOnly.FromDateTime(p.End),
                p.Onboarded, p.Activated, p.Median, p.Active,
                revenue[p.Start].Select(r => new CurrencyAmount(r.Currency, r.Amount)).ToList())).ToList());
        }
        catch (Exception e) when (ReadModelNotReadyException.Is(e)) { throw new ReadModelNotReadyException("read.partners", e); }
    }

    public const string GrowthCsvHeader = "period_start,period_end,onboarded,activated,median_hours_to_first_order,active_partners,currency,revenue";

    /// <summary>One CSV line per period and currency (a period without revenue: one line, empty currency, revenue 0).</summary>
    public static IEnumerable<string> GrowthCsv(GrowthReport report)
    {
        yield return GrowthCsvHeader;
        foreach (var p in report.Periods)
        {
            var head = string.Join(',', p.PeriodStart.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                p.PeriodEnd.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), p.Onboarded.ToString(CultureInfo.InvariantCulture),
                p.Activated.ToString(CultureInfo.InvariantCulture), p.MedianHoursToFirstOrder?.ToString(CultureInfo.InvariantCulture) ?? "",
                p.ActivePartners.ToString(CultureInfo.InvariantCulture));
            if (p.Revenue.Count == 0) yield return $"{head},,0";
            foreach (var r in p.Revenue) yield return $"{head},{r.Currency},{r.Amount.ToString(CultureInfo.InvariantCulture)}";
        }
    }
}
