using System.Globalization;
using Dapper;
using MediatR;
using Npgsql;
using Steller.Application.Pipeline;
using Steller.Projections.Wallets;

namespace Steller.Projections.Finance.ReadingPnl;

/// <summary>
/// One row of read.pnl_monthly: a UTC month (its first day), partner, product type, vendor and currency ('' where not
/// attributable); amounts in minor units. Margin = sales − vendor cost; net = sales − refunds − vendor cost + vendor refunds.
/// </summary>
public sealed record PnlMonth(DateOnly Month, string PartnerId, string ProductType, string Vendor, string Currency, long Sales, long VendorCost,
    long Refunds, long VendorRefunds, long Margin, long Net);

/// <summary>
/// read.pnl_monthly over the UTC months <paramref name="From"/>..<paramref name="To"/> (yyyy-MM, both inclusive, at most
/// <see cref="MaxMonths"/> months), of one partner and/or one currency when given.
/// </summary>
public sealed record ReadPnlRequest(string? From, string? To, string? Partner = null, string? Currency = null)
    : IRequest<IReadOnlyList<PnlMonth>>, IValidated
{
    public const int MaxMonths = 120;
    public const int MaxPartnerLength = 64;

    public void Validate(FieldErrors errors)
    {
        errors.Check(TryMonth(From, out var from), "from", "required: a UTC month, yyyy-MM (inclusive)")
            .Check(TryMonth(To, out var to), "to", "required: a UTC month, yyyy-MM (inclusive)");
        errors.Check(Partner is null || (Partner.Length is >= 1 and <= MaxPartnerLength && !Partner.Any(char.IsControl)), "partner",
                $"a partner id: 1-{MaxPartnerLength} characters, no control characters")
            .Check(Currency is null || Steller.Domain.Currency.TryParse(Currency, out _), "currency", "a currency code (ISO 4217, e.g. EUR)");
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
                select month::timestamp as Month, partner_id as PartnerId, product_type as ProductType, vendor as Vendor, currency as Currency,
                       sales as Sales, vendor_cost as VendorCost, refunds as Refunds, vendor_refunds as VendorRefunds, margin as Margin, net as Net
                  from read.pnl_monthly
                 where month between @from::date and @to::date
                   and (@partner::text is null or partner_id = @partner) and (@currency::text is null or currency = @currency)
                 order by month, currency, partner_id, product_type, vendor
                """, new { from = from.ToDateTime(TimeOnly.MinValue), to = to.ToDateTime(TimeOnly.MinValue), partner = request.Partner,
                    currency = request.Currency }, cancellationToken: ct));
            return rows.Select(r => new PnlMonth(DateOnly.FromDateTime(r.Month), r.PartnerId, r.ProductType, r.Vendor, r.Currency, r.Sales,
                r.VendorCost, r.Refunds, r.VendorRefunds, r.Margin, r.Net)).ToList();
        }
        catch (Exception e) when (ReadModelNotReadyException.Is(e)) { throw new ReadModelNotReadyException("read.pnl_monthly", e); }
    }

    private sealed record Row(DateTime Month, string PartnerId, string ProductType, string Vendor, string Currency, long Sales, long VendorCost,
        long Refunds, long VendorRefunds, long Margin, long Net);

    public const string CsvHeader = "month,partner_id,product_type,vendor,currency,sales,vendor_cost,refunds,vendor_refunds,margin,net";

    /// <summary>The rows as CSV, the header first (month as yyyy-MM; text fields quoted when they hold a comma or quote).</summary>
    public static IEnumerable<string> Csv(IEnumerable<PnlMonth> rows)
    {
        yield return CsvHeader;
        var c = CultureInfo.InvariantCulture;
        foreach (var r in rows)
            yield return string.Join(',', r.Month.ToString("yyyy-MM", c), Field(r.PartnerId), Field(r.ProductType), Field(r.Vendor), r.Currency,
                r.Sales.ToString(c), r.VendorCost.ToString(c), r.Refunds.ToString(c), r.VendorRefunds.ToString(c), r.Margin.ToString(c),
                r.Net.ToString(c));
    }

    private static string Field(string text) =>
        text.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? '"' + text.Replace("\"", "\"\"", StringComparison.Ordinal) + '"' : text;
}
