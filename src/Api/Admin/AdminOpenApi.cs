using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Steller.Api.Admin;

/// <summary>Documents the admin bearer scheme and the 401/403 problems on every /admin operation.</summary>
public static class AdminOpenApi
{
    public const string SchemeName = "adminBearer";

    public static void Configure(OpenApiOptions options)
    {
        options.AddDocumentTransformer((doc, _, _) =>
        {
            doc.Components ??= new OpenApiComponents();
            doc.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            doc.Components.SecuritySchemes[SchemeName] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description =
                    "Admin token from `steller admin token create --role R --name N`. Roles: admin (everything), finance, "
                    + "support, analyst.",
            };
            return Task.CompletedTask;
        });
        options.AddOperationTransformer((operation, context, _) =>
        {
            if (context.Description.RelativePath?.StartsWith("admin/", StringComparison.Ordinal) != true) return Task.CompletedTask;
            operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(SchemeName,
                context.Document)] = [] }];
            operation.Responses ??= new OpenApiResponses();
            operation.Responses.TryAdd("401", new OpenApiResponse { Description = "Problem admin_token_missing or admin_token_invalid." });
            operation.Responses.TryAdd("403",
                new OpenApiResponse { Description = "Problem forbidden_role: the token's role may not use this endpoint." });
            return Task.CompletedTask;
        });
    }
}
