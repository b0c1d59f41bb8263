namespace Steller.Domain.Catalog;

/// <summary>A product as the store knows it now, for the diff.</summary>
public sealed record CurrentProduct(string Sku, ProductDetails Details, ProductCost Cost, bool Active);

/// <summary>A product as the vendor lists it, already in Steller's terms (sku mapped with <see cref="Skus"/>).</summary>
public sealed record VendorListing(string Sku, ProductDetails Details, ProductCost Cost);

/// <summary>One command for one product stream.</summary>
public sealed record CatalogChange(string Sku, IProductCommand Command);

/// <summary>
/// What a vendor's catalog changes in ours, as commands: new (or delisted before) → <see cref="ListProduct"/>;
/// only the cost differs → <see cref="ChangeCost"/>; other details differ → <see cref="ListProduct"/> (the product
/// decides an update plus a cost change); missing from the vendor → <see cref="DelistProduct"/>, but only when the
/// vendor's catalog was read completely. Equal products give nothing, so an unchanged catalog gives no commands.
/// </summary>
public static class CatalogDiff
{
    public const string MissingFromVendor = "missing_from_vendor";

    public static IReadOnlyList<CatalogChange> Changes(IReadOnlyCollection<CurrentProduct> current,
        IReadOnlyCollection<VendorListing> fromVendor, bool vendorCatalogComplete, DateTimeOffset now)
    {
        var known = current.ToDictionary(p => p.Sku, StringComparer.Ordinal);
        var changes = new List<CatalogChange>();
        foreach (var v in fromVendor.OrderBy(v => v.Sku, StringComparer.Ordinal))
        {
            if (!known.TryGetValue(v.Sku, out var c) || !c.Active) changes.Add(new(v.Sku, new ListProduct(v.Sku, v.Details, v.Cost, now)));
            else if (c.Details != v.Details) changes.Add(new(v.Sku, new ListProduct(v.Sku, v.Details, v.Cost, now)));
            else if (c.Cost != v.Cost) changes.Add(new(v.Sku, new ChangeCost(v.Cost, now)));
        }
        if (vendorCatalogComplete)
        {
            var listed = fromVendor.Select(v => v.Sku).ToHashSet(StringComparer.Ordinal);
            foreach (var c in current.Where(c => c.Active && !listed.Contains(c.Sku)).OrderBy(c => c.Sku, StringComparer.Ordinal))
                changes.Add(new(c.Sku, new DelistProduct(MissingFromVendor, now)));
        }
        return changes;
    }
}
