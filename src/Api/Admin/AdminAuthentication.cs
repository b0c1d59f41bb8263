using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Steller.Application.Time;
using Steller.Infrastructure.Admin;

namespace Steller.Api.Admin;

/// <summary>
/// "Authorization: Bearer stl_admin_..." for the /admin API. A missing token answers 401 admin_token_missing, an
/// unknown, revoked or malformed one 401 admin_token_invalid, a token whose role an endpoint does not allow 403
/// forbidden_role; all as problem details.
/// </summary>
public sealed class AdminBearerHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    AdminTokens tokens, IClock clock, IProblemDetailsService problems)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public new const string Scheme =
        "AdminBearer"; // the scheme name, a constant; hides the handler's per-request Scheme property on purpose
    public const string TokenIdClaim = "steller:admin-token-id";
    private const string FailureKey = "steller.admin-auth-failure";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (string.IsNullOrWhiteSpace(header))
        {
            Context.Items[FailureKey] = "admin_token_missing";
            return AuthenticateResult.NoResult();
        }
        Context.Items[FailureKey] = "admin_token_invalid";
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return AuthenticateResult.Fail("The Authorization header is not a bearer token.");
        var principal = await tokens.Find(header["Bearer ".Length..].Trim(), clock.UtcNow, Context.RequestAborted);
        if (principal is null) return AuthenticateResult.Fail("Unknown, revoked or expired admin token.");

        var identity = new ClaimsIdentity([
            new Claim(ClaimTypes.Name, principal.Name),
            new Claim(ClaimTypes.Role, principal.Role),
            new Claim(TokenIdClaim, principal.TokenId.ToString()),
        ], Scheme, ClaimTypes.Name, ClaimTypes.Role);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var code = Context.Items[FailureKey] as string ?? "admin_token_missing";
        Response.Headers.WWWAuthenticate = "Bearer";
        return Write(StatusCodes.Status401Unauthorized, "Unauthorized", code, code == "admin_token_missing"
            ? "This endpoint needs an admin token: send Authorization: Bearer <token> (create one with `steller admin token create`)."
            : "The admin token is unknown, revoked, expired or malformed.");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        var allowed = AdminApi.AllowedRoles(Context);
        var role = Context.User.FindFirstValue(ClaimTypes.Role) ?? "none";
        return Write(StatusCodes.Status403Forbidden, "Forbidden", "forbidden_role",
            $"This endpoint needs one of the roles {string.Join(", ", allowed)}; the token has role {role}.");
    }

    private async Task Write(int status, string title, string code, string detail)
    {
        Response.StatusCode = status;
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = new ProblemDetails { Status = status, Title = title, Detail = detail, Extensions = { ["code"] = code } },
        });
    }
}

/// <summary>The roles an admin endpoint allows (besides admin), for the 403 message and the OpenAPI description.</summary>
public sealed record AdminRoleSet(IReadOnlyList<string> Roles);
