using MediatR;
using Steller.Api.Http;
using Steller.Infrastructure.Admin;
using Steller.Projections.Chain.ReadingHead;

namespace Steller.Api.Admin;

/// <summary>GET /admin/ledger/head: the head of the hash chain over the event log (docs/ledger-verification.md).</summary>
public sealed class AdminLedgerChainEndpoints : IEndpointModule
{
    public void Map(IEndpointRouteBuilder app) =>
        app.MapAdminGroup().MapGet("/ledger/head", async (IMediator mediator, CancellationToken ct) =>
                Results.Ok(await mediator.Send(new ReadLedgerHeadRequest(), ct)))
            .RequireRoles(AdminRoles.Finance)
            .WithName("AdminLedgerHead")
            .WithSummary("The head of the hash chain over the event log: sequence, log position and hash of the last sealed event, when it "
                         + "was sealed, and how far the sealer is behind (lagEvents, lagSeconds). Write it down; `steller ledger verify "
                         + "--expect POSITION=HASH` later proves nothing up to it changed. Roles: admin, finance.")
            .Produces<LedgerHead>();
}
