using System.Text;
using Steller.Api.Admin;
using Steller.Api.Http;
using Steller.Domain;
using Steller.Projections.Wallets;
using Steller.Projections.Wallets.Balances;
using Steller.Projections.Wallets.Statements;

namespace Steller.Api.Wallets;

public sealed record WalletList(string PartnerId, IReadOnlyList<WalletBalance> Wallets);

/// <summary>
/// HTTP handlers for wallet reads (read models), shared by the admin API (partner id from the route; an unknown partner is
/// refused before these run) and the partner API /v1 (partner id from the verified signature). A partner only ever sees its
/// own wallets: another partner's currency simply answers 404 wallet_not_found. Statement pages say <c>items</c> and
/// <c>next</c>, like every paged answer.
/// </summary>
public static class WalletHttp
{
    public static async Task<IResult> List(string partnerId, WalletBalancesQuery wallets, CancellationToken ct) =>
        Results.Ok(new WalletList(partnerId, await wallets.ForPartner(partnerId, ct)));

    /// <summary>JSON cursor pages, or with Accept: text/csv the whole range streamed (from inclusive, to exclusive).</summary>
    public static async Task<IResult> Statement(HttpContext context, string partnerId, string currency, string? from, string? to,
        string? limit, string? after, WalletBalancesQuery wallets, WalletStatementQuery statements, CancellationToken ct)
    {
        if (!Currency.TryParse(currency, out _))
            return Problems.Result(400, "invalid_currency", $"'{currency}' is not an ISO 4217 currency code (three capital letters).");
        if (!QueryParameters.TryRange(from, to, out var fromAt, out var toAt, out var problem)
            || !QueryParameters.TryLimit(limit, WalletStatementQuery.DefaultLimit, WalletStatementQuery.MaxLimit, out var count,
                out problem))
            return problem!;
        if (!StatementCursor.TryDecode(after, out var cursor)) return QueryParameters.InvalidCursor();

        if (WantsCsv(context.Request))
        {
            if (await wallets.One(partnerId, currency, ct) is null) return NoWallet(currency);
            context.Response.ContentType = "text/csv; charset=utf-8";
            context.Response.Headers.ContentDisposition = $"attachment; filename=\"statement-{currency}.csv\"";
            await using var writer = new StreamWriter(context.Response.Body, new UTF8Encoding(false), 16 * 1024);
            await statements.WriteCsv(partnerId, currency, fromAt, toAt, writer, ct);
            return Results.Empty;
        }
        var page = await statements.Page(partnerId, currency, fromAt, toAt, count, cursor, ct);
        return page is null ? NoWallet(currency) : Results.Ok(page);
    }


    private static bool WantsCsv(HttpRequest request) =>
        request.GetTypedHeaders().Accept.Any(a => a.MediaType.Equals("text/csv", StringComparison.OrdinalIgnoreCase));

    private static IResult NoWallet(string currency)
        => Problems.Result(404, "wallet_not_found", $"The partner has no wallet in {currency}.");
}
