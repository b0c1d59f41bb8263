using MediatR;
using Steller.Application.Catalog;
using Steller.Application.Commands;
using Steller.Application.Pipeline;
using Steller.Domain.Catalog;

namespace Steller.Projections.Catalog.ViewingProduct;

/// <summary>A product as its stream has it now, at <paramref name="Revision"/>.</summary>
public sealed record ProductAtRevision(Product Product, long Revision);

/// <summary>One product, live from its stream (not a read model). Answers null for a sku never defined or synced.</summary>
public sealed record GetProductRequest(string Sku) : IRequest<ProductAtRevision?>, IValidated
{
    public void Validate(FieldErrors errors) => errors.Sku(Sku);
}

public sealed class GetProductHandler(AggregateCommands<Product, IProductCommand, IProductEvent> products)
    : IRequestHandler<GetProductRequest, ProductAtRevision?>
{
    public async Task<ProductAtRevision?> Handle(GetProductRequest request, CancellationToken ct)
    {
        var (state, revision) = await products.Load(Product.StreamName(request.Sku), ct);
        return state.Exists ? new ProductAtRevision(state, revision) : null;
    }
}
