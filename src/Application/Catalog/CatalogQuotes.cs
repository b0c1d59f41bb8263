using Steller.Application.Commands;
using Steller.Application.Partners;
using Steller.Domain.Partners;
using Steller.Domain;
using Steller.Domain.Catalog;

namespace Steller.Application.Catalog;

/// <summary>
/// A priced order line. Money in minor units of <see cref="Currency"/>. <see cref="Vendor"/> is null for a stocked
/// product (<see cref="Source"/> "stocked"); for a vendor product it is the vendor (kind) to buy from, with the
/// <see cref="VendorProductId"/> to ask for. Totals are unit amounts × quantity.
/// </summary>
public sealed record Quote(
    string PartnerId, string Sku, long FaceValue, int Quantity, string Currency, string ProductType,
    string Source, string? Vendor, string? VendorProductId,
    long UnitCost, long UnitPrice, long TotalCost, long TotalPrice, bool IsNegativeMargin,
    string? MarginBasis, int? MarginBasisPoints, long ProductRevision);

/// <summary>Either a <see cref="Quote"/> or a domain error (never both).</summary>
public sealed record QuoteResult(Quote? Quote, DomainError? Error)
{
    public bool Succeeded => Error is null;
    public static QuoteResult Ok(Quote quote) => new(quote, null);
    public static QuoteResult Fail(DomainError error) => new(null, error);
}

/// <summary>
/// Prices one order line for a partner from the live product stream and the partner's live margin (no read model,
/// so a product or margin changed a moment ago is already in effect). Pricing rules: <see cref="Pricing"/>.
/// <para>Errors (codes): <c>invalid_quantity</c> (not 1..<see cref="MaxQuantity"/>), <c>unknown_sku</c>,
/// <c>product_delisted</c>, <c>face_value_out_of_range</c>, <c>partner_not_found</c>.</para>
/// </summary>
public sealed class CatalogQuotes(
    AggregateCommands<Product, IProductCommand, IProductEvent> products,
        AggregateCommands<Partner, IPartnerCommand, IPartnerEvent> partners)
{
    public const int MaxQuantity = 1_000;

    public async Task<QuoteResult> Quote(string partnerId, string sku, long faceValue, int quantity, CancellationToken ct)
    {
        if (quantity is < 1 or > MaxQuantity) return QuoteResult.Fail(ProductErrors.InvalidQuantity);
        var (product, revision) = await products.Load(Product.StreamName(sku), ct);
        if (!product.Exists) return QuoteResult.Fail(ProductErrors.UnknownSku);
        if (!product.Active) return QuoteResult.Fail(ProductErrors.Delisted);
        // The partner as this request's signature check read it (a few milliseconds ago), else from its stream.
        var partner = RequestPartnerRead.TryGet(partnerId, out var read) ? read : await partners.LoadPartner(partnerId, ct);
        if (!partner.State.Exists) return QuoteResult.Fail(Domain.Partners.PartnerErrors.NotFound);

        var (price, error) = Pricing.At(product.Details!, product.Cost!, partner.State.Margin, faceValue);
        if (error is not null) return QuoteResult.Fail(error);
        var d = product.Details!;
        var margin = partner.State.Margin;
        return QuoteResult.Ok(new Quote(partnerId, sku, faceValue, quantity, d.Currency, d.ProductType,
            d.Source, d.IsStocked ? null : d.Source, d.VendorProductId,
            price!.UnitCost, price.Price, checked(price.UnitCost * quantity), checked(price.Price * quantity), price.IsNegativeMargin,
            margin?.Basis, margin?.BasisPoints, revision));
    }
}
