using Microsoft.Extensions.Logging;
using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Application.Serialization;
using Steller.Domain.Catalog;

namespace Steller.Application.Catalog;

/// <summary>
/// Every product command goes through here: stream "product-{sku}", serialised and batched per product by
/// <see cref="AggregateCommands{TState,TEvent}"/>, decided by <see cref="Product.Decide"/>.
/// </summary>
public sealed class ProductCommands(IEventStore store, EventTypeRegistry registry, ILogger<ProductCommands> logger)
{
    private readonly AggregateCommands<Product, IProductEvent> commands = new("product", store, registry, Product.Empty, Product.Evolve, logger);

    public static bool TryParseStreamId(string streamId, out string sku)
    {
        sku = streamId.StartsWith(Product.StreamPrefix, StringComparison.Ordinal) ? streamId[Product.StreamPrefix.Length..] : "";
        return Product.IsValidSku(sku);
    }

    public Task<CommandOutcome<Product>> Execute(string sku, IProductCommand command, EventMetadata metadata, CancellationToken ct = default) =>
        commands.Execute(Product.StreamName(sku), s => Product.Decide(command, s), metadata, ct);

    /// <summary>The product's live state and revision (-1: no such stream). An invalid sku loads as no product.</summary>
    public Task<(Product State, long Revision)> Load(string sku, CancellationToken ct = default) =>
        Product.IsValidSku(sku) ? commands.Load(Product.StreamName(sku), ct) : Task.FromResult((Product.Empty, -1L));
}

/// <summary>Which skus the catalog read model holds for a source (a vendor): the sync's starting point for delists.</summary>
public interface ICatalogIndex
{
    /// <summary>Null while the read model is not built yet (a first start): the sync then lists and re-costs, but delists nothing.</summary>
    Task<IReadOnlyList<string>?> SkusOfSource(string source, CancellationToken ct = default);
}
