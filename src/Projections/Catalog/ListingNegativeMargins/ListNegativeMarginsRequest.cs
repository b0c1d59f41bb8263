using System.Globalization;
using MediatR;
using Steller.Application.Catalog;
using Steller.Application.Pipeline;
using Steller.Domain.Catalog;
using Steller.Domain.Partners;

namespace Steller.Projections.Catalog.ListingNegativeMargins;

/// <summary>
/// The price guardrail: (partner, sku) pairs priced below cost, with their total count, filtered by partner and sku.
/// <paramref name="Limit"/> and <paramref name="After"/> are the query string's text (after = "partnerId.sku", the
/// previous page's <c>next</c>).
/// </summary>
public sealed record ListNegativeMarginsRequest(string? PartnerId, string? Sku, string? Limit, string? After)
    : IRequest<NegativeMarginPage>, IValidated
{
    public void Validate(FieldErrors errors)
    {
        errors.Check(PartnerId is null || Partner.IsValidId(PartnerId), "partnerId", ProductFields.SkuRule)
            .Check(Sku is null || Product.IsValidSku(Sku), "sku", ProductFields.SkuRule)
            .Check(TryLimit(Limit, out _), "limit", $"a whole number from 1 to {CatalogQuery.MaxLimit}");
        if (After is not null) errors.Check(TryCursor(After, out _), "after", "a cursor this endpoint returned as 'next'");
    }

    internal static bool TryLimit(string? text, out int value)
    {
        value = CatalogQuery.DefaultLimit;
        if (string.IsNullOrEmpty(text)) return true;
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value is >= 1 and <= CatalogQuery.MaxLimit;
    }

    internal static bool TryCursor(string? after, out (string PartnerId, string Sku)? cursor)
    {
        cursor = null;
        if (after is null) return true;
        var dot = after.IndexOf('.');
        if (!(dot > 0 && Partner.IsValidId(after[..dot]) && Product.IsValidSku(after[(dot + 1)..]))) return false;
        cursor = (after[..dot], after[(dot + 1)..]);
        return true;
    }
}

public sealed class ListNegativeMarginsHandler(CatalogQuery query) : IRequestHandler<ListNegativeMarginsRequest, NegativeMarginPage>
{
    public Task<NegativeMarginPage> Handle(ListNegativeMarginsRequest request, CancellationToken ct)
    {
        ListNegativeMarginsRequest.TryLimit(request.Limit, out var take);
        ListNegativeMarginsRequest.TryCursor(request.After, out var cursor);
        return query.NegativeMargins(request.PartnerId, request.Sku, take, cursor, ct);
    }
}
