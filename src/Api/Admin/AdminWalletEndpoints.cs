using System.Text;
using Steller.Api.Http;
using Steller.Domain;
using Steller.Infrastructure.Admin;
using Steller.Projections.Wallets.Balances;
using Steller.Projections.Wallets.Statements;

namespace Steller.Api.Admin;

public sealed record WalletList(string PartnerId, IReadOnlyList<WalletBalance> Wallets);

/// <summary>A partner's wallets and statements for finance and support (read models; eventually consistent).</summary>
public sealed class AdminWalletEndpoints : IEndpointModule
{
    public void Map(IEndpointRouteBuilder app)
    {
        var admin = app.MapAdminGroup();
        admin.MapGet("/partners/{partnerId}/wallets", async (string partnerId, WalletBalancesQuery wallets, CancellationToken ct) =>
                Results.Ok(new WalletList(partnerId, await wallets.ForPartner(partnerId, ct))))
            .RequireRoles(AdminRoles.Finance, AdminRoles.Support)
            .WithName("AdminPartnerWallets")
            .WithSummary("A partner's wallets: posted, pending, available, credit limit, frozen. Roles: admin, finance, support.")
            .Produces<WalletList>();

        admin.MapGet("/partners/{partnerId}/wallets/{currency}/statement", Statement)
            .RequireRoles(AdminRoles.Finance, AdminRoles.Support)
            .WithName("AdminWalletStatement")
            .WithSummary("Statement of one wallet in log order, cursor-paginated (limit, after); from inclusive, to exclusive. "
                         + "Accept: text/csv streams the whole range as CSV. Roles: admin, finance, support.")
            .Produces<StatementPage>()
            .Produces(200, contentType: "text/csv")
            .ProducesProblem(404);
    }

    /// <summary>JSON pages, or with Accept: text/csv the whole range streamed. Usable for /v1/wallets/{currency}/statement too.</summary>
    public static async Task<IResult> Statement(HttpContext context, string partnerId, string currency, string? from, string? to, string? limit, string? after,
        WalletBalancesQuery wallets, WalletStatementQuery statements, CancellationToken ct)
    {
        if (!Currency.TryParse(currency, out _))
            return Problems.Result(400, "invalid_currency", $"'{currency}' is not an ISO 4217 currency code (three capital letters).");
        if (!QueryParameters.TryInstant(from, "from", out var fromAt, out var problem)
            || !QueryParameters.TryInstant(to, "to", out var toAt, out problem)
            || !QueryParameters.TryLimit(limit, WalletStatementQuery.DefaultLimit, WalletStatementQuery.MaxLimit, out var count, out problem))
            return problem!;
        if (!StatementCursor.TryDecode(after, out var cursor)) return QueryParameters.InvalidCursor();

        if (WantsCsv(context.Request))
        {
            if (await wallets.One(partnerId, currency, ct) is null) return NoWallet(partnerId, currency);
            context.Response.ContentType = "text/csv; charset=utf-8";
            context.Response.Headers.ContentDisposition = $"attachment; filename=\"statement-{currency}.csv\"";
            await using var writer = new StreamWriter(context.Response.Body, new UTF8Encoding(false), 16 * 1024);
            await statements.WriteCsv(partnerId, currency, fromAt, toAt, writer, ct);
            return Results.Empty;
        }
        var page = await statements.Page(partnerId, currency, fromAt, toAt, count, cursor, ct);
        return page is null ? NoWallet(partnerId, currency) : Results.Ok(page);
    }

    private static bool WantsCsv(HttpRequest request) =>
        request.GetTypedHeaders().Accept.Any(a => a.MediaType.Equals("text/csv", StringComparison.OrdinalIgnoreCase));

    private static IResult NoWallet(string partnerId, string currency) =>
        Problems.Result(404, "wallet_not_found", $"Partner {partnerId} has no wallet in {currency}.");
}
