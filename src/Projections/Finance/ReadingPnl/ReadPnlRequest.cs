using System.Globalization;
using Dapper;
using MediatR;
using Npgsql;
using Steller.Application.Pipeline;
using Steller.Projections.Wallets;

namespace Steller.Projections.Finance.ReadingPnl;

/// <summary>One row of read.pnl_monthly: a UTC month (its first day) and a currency; amounts in minor units.</summary>
public sealed record PnlMonth(DateOnly Month, string Currency, long OrdersCompleted, long Sales, long Refunds, long Revenue, long VendorCost,
    long VendorRefunds, long Margin);

/// <summary>
/// read.pnl_monthly over the UTC months <paramref name="From"/>..<paramref name="To"/> (yyyy-MM, both inclusive, at most
/// <see cref="MaxMonths"/> months), every currency.
/// </summary>
public sealed record ReadPnlRequest(string? From, string? To) : IRequest<IReadOnlyList<PnlMonth>>, IValidated
{
    public const int MaxMonths = 120;

    public void Validate(FieldErrors errors)
    {
        errors.Check(TryMonth(From, out var from), "from", "required: a UTC month, yyyy-MM (inclusive)")
            .Check(TryMonth(To, out var to), "to", "required: a UTC month, yyyy-MM (inclusive)");
        if (!errors.Any) errors.Check(from <= to && Months(from, to) <= MaxMonths, "to", $"on or after 'from', at most {MaxMonths} months in all");
    }

    internal static int Months(DateOnly from, DateOnly to) => (to.Year - from.Year) * 12 + to.Month - from.Month + 1;

    /// <summary>"2026-11" to 2026-11-01.</summary>
    internal static bool TryMonth(string? text, out DateOnly month) =>
        DateOnly.TryParseExact(text + "-01", "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out month)
        && text is { Length: 7 };
}

public sealed class ReadPnlHandler(NpgsqlDataSource dataSource) : IRequestHandler<ReadPnlRequest, IReadOnlyList<PnlMonth>>
{
    public async Task<IReadOnlyList<PnlMonth>> Handle(ReadPnlRequest request, CancellationToken ct)
    {
        ReadPnlRequest.TryMonth(request.From, out var from);
        ReadPnlRequest.TryMonth(request.To, out var to);
        try
        {
            await using var conn = await dataSource.OpenConnectionAsync(ct);
            var rows = await conn.QueryAsync<Row>(new CommandDefinition("""
                select month::timestamp as Month, currency as Currency, orders_completed as OrdersCompleted, sales as Sales, refunds as Refunds,
                       revenue as Revenue, vendor_cost as VendorCost, vendor_refunds as VendorRefunds, margin as Margin
                  from read.pnl_monthly
                 where month between @from::date and @to::date
                 order by month, currency
                """, new { from = from.ToDateTime(TimeOnly.MinValue), to = to.ToDateTime(TimeOnly.MinValue) }, cancellationToken: ct));
            return rows.Select(r => new PnlMonth(DateOnly.FromDateTime(r.Month), r.Currency, r.OrdersCompleted, r.Sales, r.Refunds, r.Revenue,
                r.VendorCost, r.VendorRefunds, r.Margin)).ToList();
        }
        catch (Exception e) when (ReadModelNotReadyException.Is(e)) { throw new ReadModelNotReadyException("read.pnl_monthly", e); }
    }

    private sealed record Row(DateTime Month, string Currency, long OrdersCompleted, long Sales, long Refunds, long Revenue, long VendorCost,
        long VendorRefunds, long Margin);

    public const string CsvHeader = "month,currency,orders_completed,sales,refunds,revenue,vendor_cost,vendor_refunds,margin";

    /// <summary>The rows as CSV, the header first (month as yyyy-MM).</summary>
    public static IEnumerable<string> Csv(IEnumerable<PnlMonth> rows)
    {
        yield return CsvHeader;
        var c = CultureInfo.InvariantCulture;
        foreach (var r in rows)
            yield return string.Join(',', r.Month.ToString("yyyy-MM", c), r.Currency, r.OrdersCompleted.ToString(c), r.Sales.ToString(c),
                r.Refunds.ToString(c), r.Revenue.ToString(c), r.VendorCost.ToString(c), r.VendorRefunds.ToString(c), r.Margin.ToString(c));
    }
}
