using MediatR;
using Steller.Api.Http;
using Steller.Api.Wallets;
using Steller.Application.Partners.ViewingPartner;
using Steller.Application.Wallets;
using Steller.Domain;
using Steller.Infrastructure.Admin;
using Steller.Projections.Wallets.Balances;
using Steller.Projections.Wallets.ListingWallets;
using Steller.Projections.Wallets.Statements;

namespace Steller.Api.Admin;

/// <summary>
/// A partner's wallets and statements for finance and support (read models; eventually consistent). A partner that was never
/// onboarded is 404 partner_not_found here too, as on every route under /admin/partners/{partnerId}/wallets.
/// </summary>
public sealed class AdminWalletEndpoints : IEndpointModule
{
    public void Map(IEndpointRouteBuilder app)
    {
        AdminEndpoints.Group(app).WithTags("Admin: wallets").MapGet("/wallets",
                async (string? currency, string? below, string? limit, string? after, WalletBalancesQuery query, CancellationToken ct) =>
                {
                    if (currency is not null && !Currency.IsKnown(currency))
                        return Problems.Result(400, "invalid_query", "'currency' must be an ISO 4217 code such as EUR.",
                            new Dictionary<string, object?> { ["parameter"] = "currency" });
                    long? belowAmount = null;
                    if (below is not null)
                    {
                        if (!long.TryParse(below, System.Globalization.NumberStyles.AllowLeadingSign,
                                System.Globalization.CultureInfo.InvariantCulture, out var amount) || !Money.InRange(amount))
                            return Problems.Result(400, "invalid_query", $"'below' must be a whole amount in minor units within ±{Money.MaxMinorUnits}.",
                                new Dictionary<string, object?> { ["parameter"] = "below" });
                        belowAmount = amount;
                    }
                    if (!QueryParameters.TryLimit(limit, WalletBalancesQuery.DefaultLimit, WalletBalancesQuery.MaxLimit, out var count,
                            out var problem)) return problem!;
                    if (!WalletBalancesQuery.TryCursor(after, out var afterKey)) return QueryParameters.InvalidCursor();
                    return Results.Ok(await query.Page(currency, belowAmount, count, afterKey, ct));
                })
            .RequireRoles(AdminRoles.Finance, AdminRoles.Support)
            .WithSummary("Every partner's wallets from read.wallet_balances (eventually consistent), by partner then currency: "
                         + "currency filters, below=N keeps wallets whose available balance is below N minor units. Pages of `limit`, "
                         + "next page with after=`next`. Roles: admin, finance, support.")
            .Produces<WalletPage>().ProducesProblem(400);

        var wallets = AdminWalletGroup.Map(app).AddEndpointFilter(PartnerMustExist);
        wallets.MapGet("/", (string partnerId, IMediator mediator, CancellationToken ct)
            => WalletHttp.List(partnerId, mediator, ct))
            .RequireRoles(AdminRoles.Finance, AdminRoles.Support)
            .WithName("AdminPartnerWallets")
            .WithSummary("A partner's wallets: posted, pending, available, credit limit, frozen. Roles: admin, finance, support.")
            .Produces<WalletList>()
            .ProducesProblem(404);

        wallets.MapGet("/{currency}/statement",
                (HttpContext context, string partnerId, string currency, string? from, string? to, string? limit, string? after,
                    IMediator mediator, CancellationToken ct) =>
                    WalletHttp.Statement(context, partnerId, currency, from, to, limit, after, mediator, ct))
            .RequireRoles(AdminRoles.Finance, AdminRoles.Support)
            .WithName("AdminWalletStatement")
            .WithSummary("Statement of one wallet in log order, cursor-paginated (limit, after); from inclusive, to exclusive. "
                         + "Accept: text/csv streams the whole range as CSV. Roles: admin, finance, support.")
            .Produces<StatementPage>()
            .Produces(200, contentType: "text/csv")
            .ProducesProblem(404);
    }

    /// <summary>Reads go to read models, which know no partners: the partner's stream says whether there is one.</summary>
    private static async ValueTask<object?> PartnerMustExist(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var partnerId = http.GetRouteValue("partnerId") as string ?? "";
        var mediator = http.RequestServices.GetRequiredService<IMediator>();
        if (await mediator.Send(new GetPartnerRequest(partnerId), http.RequestAborted) is null)
            return Outcomes.Problem(WalletCommandsExtensions.PartnerNotFoundError(partnerId), WalletEndpoints.Statuses);
        return await next(context);
    }
}
