using MediatR;
using Steller.Api.Http;
using Steller.Infrastructure.Admin;
using Steller.Projections.Wallets;
using Steller.Projections.Wallets.AuditingLedger;

namespace Steller.Api.Admin;

/// <summary>
/// POST /admin/ledger/audit: finance's replay of the ledger from the event store (same report as `steller ledger audit`).
/// </summary>
public sealed class AdminLedgerEndpoints : IEndpointModule
{
    public void Map(IEndpointRouteBuilder app) =>
        app.MapAdminGroup().MapPost("/ledger/audit", async (string? asOf, IMediator mediator, CancellationToken ct) =>
            {
                if (!QueryParameters.TryInstant(asOf, "asOf", out var instant, out var problem)) return problem!;
                return Results.Ok(await mediator.Send(new AuditLedgerRequest(instant), ct));
            })
            .RequireRoles(AdminRoles.Finance)
            .WithName("AdminLedgerAudit")
            .WithSummary("Folds every wallet from the event store, checks each currency sums to zero and compares every account with "
                         + "read.wallet_balances (not with asOf). 200 with clean=false and the drifts when anything differs. Roles: "
                             + "admin, finance.")
            .Produces<LedgerAuditReport>();
}
