using Steller.Api.Http;
using Steller.Infrastructure.Admin;

namespace Steller.Api.Admin;

public static class AdminRegistration
{
    /// <summary>Admin bearer authentication, role authorization, the audit log and the admin endpoint modules.</summary>
    public static IServiceCollection AddStellerAdmin(this IServiceCollection services)
    {
        services.AddAuthentication().AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, AdminBearerHandler>(
            AdminBearerHandler.Scheme, null);
        services.AddAuthorization();
        services.Configure<Microsoft.AspNetCore.OpenApi.OpenApiOptions>("v1", AdminOpenApi.Configure);
        services.AddSingleton<AdminTokens>();
        services.AddSingleton<AdminAuditLog>();
        services.AddSingleton<IEndpointModule, AdminAuditEndpoints>();
        services.AddSingleton<IEndpointModule, AdminWalletEndpoints>();
        services.AddSingleton<IEndpointModule, AdminLedgerEndpoints>();
        services.AddSingleton<IEndpointModule, AdminTokenEndpoints>();
        services.AddSingleton<IEndpointModule, AdminLedgerChainEndpoints>();
        return services;
    }

    /// <summary>Authentication, then the admin audit around authorization (so 403s are audited too).</summary>
    public static IApplicationBuilder UseStellerAdmin(this IApplicationBuilder app)
    {
        app.UseAuthentication();
        app.UseMiddleware<AdminAuditMiddleware>();
        app.UseAuthorization();
        return app;
    }
}
