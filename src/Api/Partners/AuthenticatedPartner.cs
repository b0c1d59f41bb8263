using System.Reflection;
using System.Security.Claims;
using Steller.Domain.Partners;

namespace Steller.Api.Partners;

/// <summary>
/// The partner a signed /v1 request was verified for. Endpoints take it as a parameter
/// (<c>(AuthenticatedPartner partner) =&gt; ...</c>) or read <see cref="Of"/>; <c>HttpContext.User</c> also carries
/// the claims <see cref="PartnerIdClaim"/> and <see cref="KeyIdClaim"/>.
/// </summary>
public sealed record AuthenticatedPartner(string PartnerId, string KeyId, Partner State)
{
    public const string PartnerIdClaim = "steller:partner_id", KeyIdClaim = "steller:api_key_id",
        AuthenticationType = "HttpMessageSignature";
    private const string ItemKey = "steller.partner";

    /// <summary>
    /// The verified partner, or null outside /v1 (the signature middleware refuses unsigned /v1 requests before endpoints run).
    /// </summary>
    public static AuthenticatedPartner? Of(HttpContext context) => context.Items[ItemKey] as AuthenticatedPartner;

    internal static void Set(HttpContext context, AuthenticatedPartner partner)
    {
        context.Items[ItemKey] = partner;
        context.User = new ClaimsPrincipal(new ClaimsIdentity(
            [new Claim(PartnerIdClaim, partner.PartnerId), new Claim(KeyIdClaim, partner.KeyId)], AuthenticationType,
                PartnerIdClaim, null));
    }

    /// <summary>Minimal API binding: an endpoint parameter of this type is the verified partner.</summary>
    public static ValueTask<AuthenticatedPartner?> BindAsync(HttpContext context, ParameterInfo parameter) =>
        ValueTask.FromResult<AuthenticatedPartner?>(Of(context) ?? throw new InvalidOperationException(
            $"{parameter.Name}: no authenticated partner; partner endpoints must live under /v1, behind the signature check."));
}
