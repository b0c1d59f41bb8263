using Steller.Api.Http;
using Steller.Infrastructure.Admin;

namespace Steller.Api.Admin;

/// <summary>GET /admin/audit: the admin command audit, newest first, in cursor pages.</summary>
public sealed class AdminAuditEndpoints : IEndpointModule
{
    public void Map(IEndpointRouteBuilder app) =>
        app.MapAdminGroup().MapGet("/audit",
                async (string? actor, string? from, string? to, string? limit, string? after, AdminAuditLog log, CancellationToken ct) =>
            {
                if (!QueryParameters.TryRange(from, to, out var fromAt, out var toAt, out var problem)
                    || !QueryParameters.TryLimit(limit, 50, 500, out var count, out problem))
                    return problem!;
                if (!AdminAuditLog.TryDecodeCursor(after, out var afterId)) return QueryParameters.InvalidCursor();
                return Results.Ok(await log.Query(string.IsNullOrEmpty(actor) ? null : actor, fromAt, toAt, count, afterId, ct));
            })
            .RequireRoles(AdminRoles.Analyst)
            .WithName("AdminAudit")
            .WithSummary(
                "Admin command audit: who did what, when, with which outcome and correlation id (never bodies). Roles: admin, analyst.")
            .Produces<AdminAuditPage>();
}
