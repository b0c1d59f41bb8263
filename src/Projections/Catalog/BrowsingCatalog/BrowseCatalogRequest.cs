using System.Globalization;
using MediatR;
using Steller.Application.Pipeline;
using Steller.Domain.Catalog;
using Steller.Domain.Partners;

namespace Steller.Projections.Catalog.BrowsingCatalog;

/// <summary>
/// A catalog product priced for one partner (minor units; costs are never shown). Fixed products carry
/// <see cref="UnitPrice"/>; range products the price at their min and max face value. Stocked products carry
/// <see cref="Available"/> = units available over all locations.
/// </summary>
public sealed record CatalogItem(
    string Sku, string Name, string Brand, string Country, string Currency, string Type,
    long? FaceValue, long? MinFaceValue, long? MaxFaceValue, long? UnitPrice, long? MinUnitPrice, long? MaxUnitPrice, long? Available);

public sealed record PartnerCatalogPage(IReadOnlyList<CatalogItem> Items, string? Next);

/// <summary>
/// The active catalog from read.catalog_products, filtered by country, brand and type, ordered by sku, priced by the
/// calling partner's <paramref name="Margin"/>. <paramref name="Limit"/> and <paramref name="After"/> are the query
/// string's text (default <see cref="CatalogQuery.DefaultLimit"/>; after = the previous page's <c>next</c>).
/// </summary>
public sealed record BrowseCatalogRequest(Margin? Margin, string? Country, string? Brand, string? Type, string? Limit, string? After)
    : IRequest<PartnerCatalogPage>, IValidated
{
    public void Validate(FieldErrors errors) => errors
        .Check(Country is null || (Country.Length == 2 && Country.All(char.IsAsciiLetterUpper)), "country",
            "an ISO 3166-1 alpha-2 code such as DE")
        .Check(Brand is null || (Brand.Length is > 0 and <= 100), "brand", "1–100 characters")
        .Check(Type is null || ProductTypes.All.Contains(Type), "type", $"one of {string.Join(", ", ProductTypes.All)}")
        .Check(TryLimit(Limit, out _), "limit", $"a whole number from 1 to {CatalogQuery.MaxLimit}")
        .Check(After is null || Product.IsValidSku(After), "after", "a cursor this endpoint returned as 'next'");

    internal static bool TryLimit(string? text, out int value)
    {
        value = CatalogQuery.DefaultLimit;
        if (string.IsNullOrEmpty(text)) return true;
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value is >= 1 and <= CatalogQuery.MaxLimit;
    }
}

public sealed class BrowseCatalogHandler(CatalogQuery query) : IRequestHandler<BrowseCatalogRequest, PartnerCatalogPage>
{
    public async Task<PartnerCatalogPage> Handle(BrowseCatalogRequest request, CancellationToken ct)
    {
        BrowseCatalogRequest.TryLimit(request.Limit, out var take);
        var page = await query.Page(request.Country, request.Brand, request.Type, take, request.After, ct);
        return new PartnerCatalogPage(page.Items.Select(r => Priced(r, request.Margin)).ToList(), page.Next);
    }

    private static CatalogItem Priced(CatalogRow r, Margin? margin)
    {
        var details = new ProductDetails(r.Source, r.VendorProductId, r.Name, r.Brand, r.Country, r.Currency, r.ProductType,
            r.FaceValueFixed, r.FaceValueMin, r.FaceValueMax);
        var cost = new ProductCost(r.CostAmount, r.CostDiscountBp);
        long PriceAt(long face) => Pricing.At(details, cost, margin, face).Price!.Price;
        return r.FaceValueFixed is { } f
            ? new CatalogItem(r.Sku, r.Name, r.Brand, r.Country, r.Currency, r.ProductType, f, null, null, PriceAt(f), null, null,
                r.Available)
            : new CatalogItem(r.Sku, r.Name, r.Brand, r.Country, r.Currency, r.ProductType, null, r.FaceValueMin, r.FaceValueMax, null,
                PriceAt(r.FaceValueMin!.Value), PriceAt(r.FaceValueMax!.Value), r.Available);
    }
}
