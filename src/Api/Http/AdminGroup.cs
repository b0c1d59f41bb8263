namespace Steller.Api.Http;

/// <summary>The admin API's single entry point: every admin endpoint module maps its routes under this group.</summary>
public static class AdminEndpoints
{
    /// <summary>
    /// The <c>/admin</c> route group. Admin authentication and role policies attach HERE (e.g.
    /// <c>.RequireAuthorization("admin")</c>), once, for every admin route; today the group is open.
    /// </summary>
    public static RouteGroupBuilder Group(IEndpointRouteBuilder app) => app.MapGroup("/admin");
}
