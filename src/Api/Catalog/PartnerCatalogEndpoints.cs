using MediatR;
using Steller.Api.Http;
using Steller.Api.Partners;
using Steller.Projections.Catalog.BrowsingCatalog;

namespace Steller.Api.Catalog;

/// <summary>
/// GET /v1/catalog: the active catalog with the calling partner's own unit prices (its margin rule over the cost;
/// costs are never shown). Fixed products carry <c>unitPrice</c>; range products the price at their min and max face
/// value (<c>minUnitPrice</c>, <c>maxUnitPrice</c>); any face value in between is priced by the same rule when
/// ordering. Stocked products carry <c>available</c> = units available over all locations.
/// </summary>
public sealed class PartnerCatalogEndpoints : IEndpointModule
{
    public void Map(IEndpointRouteBuilder app)
    {
        app.MapGroup("/v1").WithTags("Partner API").MapGet("/catalog", async (AuthenticatedPartner partner, string? country, string? brand,
            string? type, string? limit, string? after, IMediator mediator, CancellationToken ct) =>
                Results.Ok(await mediator.Send(new BrowseCatalogRequest(partner.State.Margin, country, brand, type, limit, after), ct)))
            .WithSummary(
                "The catalog with your unit prices (minor units): filter by country, brand, type; pages of `limit` (default 50), next page "
                + "with after=`next`.")
            .Produces<PartnerCatalogPage>().ProducesProblem(400).ProducesProblem(401);
    }
}
