using Steller.Api.Admin;

namespace Steller.Api.Http;

/// <summary>The admin API's single entry point: every admin endpoint module maps its routes under this group.</summary>
public static class AdminEndpoints
{
    /// <summary>The <c>/admin</c> route group: a valid admin bearer token is required; endpoints narrow roles with RequireRoles.</summary>
    public static RouteGroupBuilder Group(IEndpointRouteBuilder app) => app.MapAdminGroup();
}
