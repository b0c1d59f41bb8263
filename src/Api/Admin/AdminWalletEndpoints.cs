using Steller.Api.Http;
using Steller.Api.Wallets;
using Steller.Infrastructure.Admin;
using Steller.Projections.Wallets.Balances;
using Steller.Projections.Wallets.Statements;

namespace Steller.Api.Admin;

/// <summary>A partner's wallets and statements for finance and support (read models; eventually consistent).</summary>
public sealed class AdminWalletEndpoints : IEndpointModule
{
    public void Map(IEndpointRouteBuilder app)
    {
        var admin = app.MapAdminGroup();
        admin.MapGet("/partners/{partnerId}/wallets", (string partnerId, WalletBalancesQuery wallets, CancellationToken ct) => WalletHttp.List(partnerId, wallets, ct))
            .RequireRoles(AdminRoles.Finance, AdminRoles.Support)
            .WithName("AdminPartnerWallets")
            .WithSummary("A partner's wallets: posted, pending, available, credit limit, frozen. Roles: admin, finance, support.")
            .Produces<WalletList>();

        admin.MapGet("/partners/{partnerId}/wallets/{currency}/statement",
                (HttpContext context, string partnerId, string currency, string? from, string? to, string? limit, string? after,
                    WalletBalancesQuery wallets, WalletStatementQuery statements, CancellationToken ct) =>
                    WalletHttp.Statement(context, partnerId, currency, from, to, limit, after, wallets, statements, ct))
            .RequireRoles(AdminRoles.Finance, AdminRoles.Support)
            .WithName("AdminWalletStatement")
            .WithSummary("Statement of one wallet in log order, cursor-paginated (limit, after); from inclusive, to exclusive. "
                         + "Accept: text/csv streams the whole range as CSV. Roles: admin, finance, support.")
            .Produces<StatementPage>()
            .Produces(200, contentType: "text/csv")
            .ProducesProblem(404);
    }
}
