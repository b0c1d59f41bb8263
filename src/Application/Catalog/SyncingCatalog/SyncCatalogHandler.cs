using MediatR;

namespace Steller.Application.Catalog.SyncingCatalog;

/// <summary>Sync every configured vendor's catalog now (the scheduled job runs <see cref="CatalogSync"/> itself).</summary>
public sealed record SyncCatalogRequest : IRequest<IReadOnlyList<CatalogSyncReport>>;

/// <summary>
/// One report per vendor: what was read, listed, updated, re-costed and delisted. A vendor that fails mid-way delists nothing.
/// </summary>
public sealed class SyncCatalogHandler(CatalogSync sync) : IRequestHandler<SyncCatalogRequest, IReadOnlyList<CatalogSyncReport>>
{
    public Task<IReadOnlyList<CatalogSyncReport>> Handle(SyncCatalogRequest request, CancellationToken ct) => sync.RunAll(ct);
}
