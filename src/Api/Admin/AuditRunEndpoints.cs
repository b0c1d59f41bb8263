using MediatR;
using Steller.Api.Http;
using Steller.Infrastructure.Admin;
using Steller.Projections.Audits;
using Steller.Projections.Audits.ListingAuditRuns;

namespace Steller.Api.Admin;

/// <summary>GET /admin/audits: the stored audit runs (nightly, CLI, API), newest first, in cursor pages.</summary>
public sealed class AuditRunEndpoints : IEndpointModule
{
    public void Map(IEndpointRouteBuilder app) =>
        app.MapAdminGroup().MapGet("/audits", async (string? kind, string? limit, string? after, IMediator mediator, CancellationToken ct) =>
            {
                if (!QueryParameters.TryLimit(limit, 50, 500, out var count, out var problem)) return problem!;
                if (!string.IsNullOrEmpty(kind) && !AuditKinds.All.Contains(kind))
                    return Problems.Result(400, "invalid_query",
                        $"'kind' must be one of {string.Join(", ", AuditKinds.All.Order(StringComparer.Ordinal))}.",
                        new Dictionary<string, object?> { ["parameter"] = "kind" });
                if (!AuditRuns.TryDecodeCursor(after, out var afterId)) return QueryParameters.InvalidCursor();
                return Results.Ok(await mediator.Send(new ListAuditRunsRequest(string.IsNullOrEmpty(kind) ? null : kind, count, afterId), ct));
            })
            .RequireRoles(AdminRoles.Finance, AdminRoles.Analyst)
            .WithName("AdminAuditRuns")
            .WithSummary("Stored runs of the ledger audit, the stock audit and each vendor reconciliation (nightly, CLI, API), newest "
                + "first: kind, started, finished, events folded, result, flagged, drift lines. Roles: admin, finance, analyst.")
            .Produces<AuditRunPage>();
}
