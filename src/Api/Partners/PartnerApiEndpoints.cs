using Steller.Api.Http;

namespace Steller.Api.Partners;

/// <summary>The signed partner API (/v1). Every route here runs after <see cref="Signing.PartnerSignatures"/> accepted the request.</summary>
public sealed class PartnerApiEndpoints : IEndpointModule
{
    public sealed record Me(string PartnerId, string Name, string Status);

    public void Map(IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup("/v1").WithTags("Partner API");
        v1.MapGet("/me", (AuthenticatedPartner partner) =>
                Results.Ok(new Me(partner.PartnerId, partner.State.Name!, partner.State.Status.ToString().ToLowerInvariant())))
            .WithSummary("The calling partner (proves the RFC 9421 request signature).")
            .Produces<Me>()
            .ProducesProblem(401);
    }
}
