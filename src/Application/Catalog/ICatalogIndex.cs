namespace Steller.Application.Catalog;

/// <summary>Which skus the catalog read model holds for a source (a vendor): the sync's starting point for delists.</summary>
public interface ICatalogIndex
{
    /// <summary>
    /// Null while the read model is not built yet (a first start): the sync then lists and re-costs, but delists nothing.
    /// </summary>
    Task<IReadOnlyList<string>?> SkusOfSource(string source, CancellationToken ct = default);
}
