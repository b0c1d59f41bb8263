using MediatR;
using Steller.Api.Http;
using Steller.Api.Wallets;
using Steller.Application.Partners.ViewingPartner;
using Steller.Application.Wallets;
using Steller.Infrastructure.Admin;
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
