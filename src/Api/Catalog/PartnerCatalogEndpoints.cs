using Steller.Application.Pipeline;
using Steller.Api.Admin;
using Steller.Api.Http;
using Steller.Api.Partners;
using Steller.Domain.Catalog;
using Steller.Projections.Catalog;
using Steller.Projections.Wallets;

namespace Steller.Api.Catalog;

/// <summary>
/// GET /v1/catalog: the active catalog with the calling partner's own unit prices (its margin rule over the cost;
/// costs are never shown). Fixed products carry <c>unitPrice</c>; range products the price at their min and max face
/// value (<c>minUnitPrice</c>, <c>maxUnitPrice</c>); any face value in between is priced by the same rule when
/// ordering. Stocked products carry <c>available</c> = units available over all locations.
/// </summary>
public sealed class PartnerCatalogEndpoints : IEndpointModule
{
    public sealed record CatalogItem(
        string Sku, string Name, string Brand, string Country, string Currency, string Type,
        long? FaceValue, long? MinFaceValue, long? MaxFaceValue, long? UnitPrice, long? MinUnitPrice, long? MaxUnitPrice, long? Available);

    public sealed record PartnerCatalogPage(IReadOnlyList<CatalogItem> Items, string? Next);

    public void Map(IEndpointRouteBuilder app)
    {
        app.MapGroup("/v1").WithTags("Partner API").MapGet("/catalog", async (AuthenticatedPartner partner, string? country, string? brand,
            string? type, string? limit, string? after, CatalogQuery query, CancellationToken ct) =>
        {
            var errors = new FieldErrors()
                .Check(country is null || (country.Length == 2 && country.All(char.IsAsciiLetterUpper)), "country",
                    "an ISO 3166-1 alpha-2 code such as DE")
                .Check(brand is null || (brand.Length is > 0 and <= 100), "brand", "1–100 characters")
                .Check(type is null || ProductTypes.All.Contains(type), "type", $"one of {string.Join(", ", ProductTypes.All)}")
                .Check(QueryParameters.TryLimit(limit, CatalogQuery.DefaultLimit, CatalogQuery.MaxLimit, out var take, out _),
                    "limit", $"a whole number from 1 to {CatalogQuery.MaxLimit}")
                .Check(after is null || Product.IsValidSku(after), "after", "a cursor this endpoint returned as 'next'");
            if (errors.Any) return errors.Problem();
            var page = await query.Page(country, brand, type, take, after, ct);
            return Results.Ok(new PartnerCatalogPage(page.Items.Select(r => Priced(r, partner)).ToList(), page.Next));
        })
            .WithSummary(
                "The catalog with your unit prices (minor units): filter by country, brand, type; pages of `limit` (default 50), next page "
                + "with after=`next`.")
            .Produces<PartnerCatalogPage>().ProducesProblem(400).ProducesProblem(401);
    }

    private static CatalogItem Priced(CatalogRow r, AuthenticatedPartner partner)
    {
        var details = new ProductDetails(r.Source, r.VendorProductId, r.Name, r.Brand, r.Country, r.Currency, r.ProductType,
            r.FaceValueFixed, r.FaceValueMin, r.FaceValueMax);
        var cost = new ProductCost(r.CostAmount, r.CostDiscountBp);
        long PriceAt(long face) => Pricing.At(details, cost, partner.State.Margin, face).Price!.Price;
        return r.FaceValueFixed is { } f
            ? new CatalogItem(r.Sku, r.Name, r.Brand, r.Country, r.Currency, r.ProductType, f, null, null, PriceAt(f), null, null,
                r.Available)
            : new CatalogItem(r.Sku, r.Name, r.Brand, r.Country, r.Currency, r.ProductType, null, r.FaceValueMin, r.FaceValueMax, null,
                PriceAt(r.FaceValueMin!.Value), PriceAt(r.FaceValueMax!.Value), r.Available);
    }
}
