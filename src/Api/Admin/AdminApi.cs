using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;
using Steller.Infrastructure.Admin;

namespace Steller.Api.Admin;

/// <summary>
/// The one entry point of the admin API for endpoint modules:
/// <code>
/// var admin = app.MapAdminGroup();                       // /admin: needs a valid admin token
/// admin.MapGet("/partners/{partnerId}/wallets", ...).RequireRoles(AdminRoles.Finance, AdminRoles.Support);
/// admin.MapPost("/something", ...);                      // no RequireRoles: role admin only (deny by default)
/// </code>
/// Role <c>admin</c> may do everything. Every non-GET request is audited (see <see cref="AdminAuditMiddleware"/>).
/// </summary>
public static class AdminApi
{
    public const string Prefix = "/admin";

    public static readonly AuthorizationPolicy Policy = new AuthorizationPolicyBuilder(AdminBearerHandler.Scheme)
        .RequireAuthenticatedUser().AddRequirements(new AdminRoleRequirement()).Build();

    /// <summary>The /admin route group: every endpoint in it needs an admin token whose role the endpoint allows.</summary>
    public static RouteGroupBuilder MapAdminGroup(this IEndpointRouteBuilder app) =>
        app.MapGroup(Prefix).RequireAuthorization(Policy).WithTags("Admin");

    /// <summary>
    /// Allows tokens with one of <paramref name="roles"/> (admin always). Without it an admin endpoint allows role admin only.
    /// </summary>
    public static TBuilder RequireRoles<TBuilder>(this TBuilder builder, params string[] roles) where TBuilder : IEndpointConventionBuilder
    {
        foreach (var r in roles)
            if (!AdminRoles.IsKnown(r)) throw new ArgumentException($"Unknown admin role '{r}'.", nameof(roles));
        var allowed = new[] { AdminRoles.Admin }.Concat(roles).Distinct().ToArray();
        builder.WithMetadata(new AdminRoleSet(allowed));
        return builder;
    }

    /// <summary>The roles the endpoint being authorized allows: its <see cref="AdminRoleSet"/>, else admin only.</summary>
    public static IReadOnlyList<string> AllowedRoles(HttpContext? context) =>
        context?.GetEndpoint()?.Metadata.GetMetadata<AdminRoleSet>()?.Roles ?? [AdminRoles.Admin];
}

/// <summary>The token's role must be one the endpoint allows (<see cref="AdminApi.RequireRoles{TBuilder}"/>).</summary>
public sealed class AdminRoleRequirement : AuthorizationHandler<AdminRoleRequirement>, IAuthorizationRequirement
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, AdminRoleRequirement requirement)
    {
        var role = context.User.FindFirstValue(ClaimTypes.Role);
        if (role is not null && AdminApi.AllowedRoles(context.Resource as HttpContext).Contains(role)) context.Succeed(requirement);
        return Task.CompletedTask;
    }
}
