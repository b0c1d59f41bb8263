using Microsoft.Extensions.Logging;
using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Application.Time;
using Steller.Application.Vendors;
using Steller.Domain.Catalog;

namespace Steller.Application.Catalog;

/// <summary>
/// What one sync of one vendor did. <see cref="Complete"/> is false when the vendor failed mid-read: then nothing was delisted.
/// </summary>
public sealed record CatalogSyncReport(
    string Vendor, bool Complete, int Read, int Listed, int Updated, int CostChanged, int Delisted, int Skipped, string? Error)
{
    public int Changed => Listed + Updated + CostChanged + Delisted;
}

/// <summary>
/// Brings our catalog in line with each vendor's (every <c>Jobs:CatalogSyncMinutes</c>, see CatalogSyncJob):
/// read the vendor's whole catalog, map each product to a sku (<see cref="Skus"/>), diff against the live product
/// streams (<see cref="CatalogDiff"/>) and run only the resulting commands, so an unchanged catalog appends nothing.
/// <para>
/// Safety: when the vendor fails mid-read (<see cref="VendorUnavailableException"/>), what was read is still listed
/// and re-costed, but nothing is delisted: a partial catalog must never delist products. Invalid vendor products
/// and sku clashes are skipped and logged, never fatal.
/// </para>
/// <para>
/// The candidates for delisting come from read.catalog_products (<see cref="ICatalogIndex"/>), each then checked
/// against its live stream; a product listed moments ago that the read model has not seen yet is delisted by the
/// next run at the latest.
/// </para>
/// </summary>
public sealed class CatalogSync(
    IEnumerable<IVendorCatalog> catalogs, AggregateCommands<Product, IProductCommand, IProductEvent> products, ICatalogIndex index,
    IClock clock, ILogger<CatalogSync> logger)
{
    public const string Actor = "system:catalog-sync";

    /// <summary>Syncs every registered vendor catalog, one after the other; one vendor's failure does not stop the others.</summary>
    public async Task<IReadOnlyList<CatalogSyncReport>> RunAll(CancellationToken ct)
    {
        var reports = new List<CatalogSyncReport>();
        foreach (var catalog in catalogs)
        {
            try { reports.Add(await Run(catalog, ct)); }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogError(e, "Catalog sync of {Vendor} failed", catalog.Vendor);
            }
        }
        return reports;
    }

    public async Task<CatalogSyncReport> Run(IVendorCatalog catalog, CancellationToken ct)
    {
        var vendor = catalog.Vendor;
        var listings = new Dictionary<string, VendorListing>(StringComparer.Ordinal);
        int read = 0, skipped = 0;
        string? error = null;
        try
        {
            await foreach (var p in catalog.ReadCatalog(ct))
            {
                read++;
                if (ToListing(vendor, p) is not { } listing)
                {
                    skipped++;
                    logger.LogWarning("Catalog sync of {Vendor}: skipped invalid product {VendorProductId}", vendor, p.VendorProductId);
                }
                else if (listings.TryGetValue(listing.Sku, out var clash))
                {
                    skipped++;
                    logger.LogWarning("Catalog sync of {Vendor}: vendor products {First} and {Second} map to one sku {Sku}; kept the first",
                        vendor, clash.Details.VendorProductId, p.VendorProductId, listing.Sku);
                }
                else listings[listing.Sku] = listing;
            }
        }
        catch (VendorUnavailableException e)
        {
            error = e.Message;
            logger.LogWarning(
                "Catalog sync of {Vendor}: vendor unavailable after {Read} product(s) ({Error}); nothing is delisted on this run",
                vendor, read, e.Message);
        }
        var complete = error is null;
        var known = await index.SkusOfSource(vendor, ct);
        // Without the index we cannot tell what the vendor dropped: list and re-cost, but delist nothing this time.
        var mayDelist = complete && known is not null;

        var current = new List<CurrentProduct>();
        foreach (var sku in (known ?? []).Union(listings.Keys))
        {
            var (state, _) = await products.Load(Product.StreamName(sku), ct);
            if (state.Exists && state.Details!.Source == vendor)
                current.Add(new CurrentProduct(sku, state.Details, state.Cost!, state.Active));
        }

        var now = clock.UtcNow;
        var changes = CatalogDiff.Changes(current, listings.Values, mayDelist, now);
        int listed = 0, updated = 0, costChanged = 0, delisted = 0;
        var correlation = $"catalog-sync-{vendor}-{Guid.NewGuid():N}";
        foreach (var change in changes)
        {
            var metadata = new EventMetadata(correlation, correlation, Guid.NewGuid(), Actor, now);
            var outcome = await products.Execute(Product.StreamName(change.Sku), change.Command, metadata, ct: ct);
            if (outcome.Error is { } refused)
            {
                skipped++;
                logger.LogWarning("Catalog sync of {Vendor}: {Sku} refused: {Code}", vendor, change.Sku, refused.Code);
                continue;
            }
            foreach (var e in outcome.NewEvents)
                switch (e)
                {
                    case ProductListed: listed++; break;
                    case ProductUpdated: updated++; break;
                    case ProductCostChanged: costChanged++; break;
                    case ProductDelisted: delisted++; break;
                }
        }

        var report = new CatalogSyncReport(vendor, complete, read, listed, updated, costChanged, delisted, skipped, error);
        logger.LogInformation(
            "Catalog sync of {Vendor}: complete={Complete} read={Read} listed={Listed} updated={Updated} costChanged={CostChanged} "
            + "delisted={Delisted} skipped={Skipped}",
            vendor, complete, read, listed, updated, costChanged, delisted, skipped);
        return report;
    }

    /// <summary>A vendor product in Steller's terms, or null when it is not a valid product (then it is skipped).</summary>
    public static VendorListing? ToListing(string vendor, VendorProduct p)
    {
        if (string.IsNullOrWhiteSpace(p.VendorProductId) || !Product.IsValidSku(vendor) || vendor.Length > 40) return null;
        var details = new ProductDetails(vendor, p.VendorProductId, p.Name?.Trim() ?? "", p.Brand?.Trim() ?? "",
            p.Country?.Trim().ToUpperInvariant() ?? "", p.Currency?.Trim().ToUpperInvariant() ?? "", p.ProductType,
            p.FixedFaceValue, p.FixedFaceValue is null ? p.MinFaceValue : null, p.FixedFaceValue is null ? p.MaxFaceValue : null);
        // An absolute cost only makes sense for a fixed face value; a vendor sending both prefers the absolute one.
        var cost = p.CostAmount is { } amount ? ProductCost.Absolute(amount) : new ProductCost(null, p.DiscountBasisPoints);
        return Product.Validate(details, cost) is null
            ? new VendorListing(Skus.ForVendorProduct(vendor, p.VendorProductId), details, cost) : null;
    }
}
