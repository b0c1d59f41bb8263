using System.Security.Claims;
using Steller.Api.Http;
using Steller.Application.Time;
using Steller.Infrastructure.Admin;

namespace Steller.Api.Admin;

/// <summary>
/// Admins manage the /admin API's bearer tokens over HTTP (as `steller admin token` does): list (never a token or its hash),
/// create (the token is shown once; expires in 90 days unless told otherwise), revoke. Role admin only. The token that
/// authenticates the request cannot revoke itself, so an admin cannot lock itself out by mistake.
/// </summary>
public sealed class AdminTokenEndpoints : IEndpointModule
{
    public sealed record CreateTokenBody(string? Name, string? Role, DateTimeOffset? ExpiresAt);
    public sealed record CreatedToken(Guid Id, string Name, string Role, DateTime CreatedAt, DateTime? ExpiresAt, string Token);
    public sealed record TokenList(IReadOnlyList<AdminTokenInfo> Items);

    public static readonly TimeSpan DefaultLifetime = TimeSpan.FromDays(90);

    public void Map(IEndpointRouteBuilder app)
    {
        var tokens = AdminEndpoints.Group(app).MapGroup("/tokens").WithTags("Admin: tokens");

        tokens.MapGet("/", async (AdminTokens store, CancellationToken ct) => Results.Ok(new TokenList(await store.List(ct))))
            .WithSummary("Every admin token: id, name, role, created, last used, expires, revoked. Never the token or its hash. Role admin.")
            .Produces<TokenList>();

        tokens.MapPost("/", async (CreateTokenBody body, AdminTokens store, IClock clock, CancellationToken ct) =>
            {
                var now = clock.UtcNow;
                try
                {
                    var (info, token) = await store.Create(body.Name ?? "", body.Role ?? "", now, body.ExpiresAt ?? now + DefaultLifetime, ct);
                    return Results.Created($"/admin/tokens/{info.Id}",
                        new CreatedToken(info.Id, info.Name, info.Role, info.CreatedAt, info.ExpiresAt, token));
                }
                catch (AdminTokenException e)
                {
                    return Problems.Result(e.Code == "name_taken" ? 409 : 400, e.Code, e.Message);
                }
            })
            .WithSummary("Create a token {name, role, expiresAt?} (default: 90 days from now, at most about two years). The token is in "
                         + "this answer only: store it now. A live token's name is unique. Role admin.")
            .Produces<CreatedToken>(201).ProducesProblem(400).ProducesProblem(409);

        tokens.MapPost("/{tokenId}/revoke", async (string tokenId, HttpContext http, AdminTokens store, IClock clock, CancellationToken ct) =>
            {
                if (!Guid.TryParse(tokenId, out var id))
                    return Problems.Result(404, "admin_token_not_found", "No live admin token has this id.");
                if (http.User.FindFirstValue(AdminBearerHandler.TokenIdClaim) == id.ToString())
                    return Problems.Result(409, "cannot_revoke_current_token",
                        "This token authenticates the request; revoke it with another admin token or `steller admin token revoke`.");
                return await store.Revoke(id.ToString(), clock.UtcNow, ct)
                    ? Results.NoContent()
                    : Problems.Result(404, "admin_token_not_found", "No live admin token has this id.");
            })
            .WithSummary("Revoke a token by id: it stops working at once. Not the token of this very request (409). Role admin.")
            .Produces(204).ProducesProblem(404).ProducesProblem(409);
    }
}
