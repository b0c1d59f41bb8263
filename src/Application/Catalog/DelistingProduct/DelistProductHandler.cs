using MediatR;
using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Application.Pipeline;
using Steller.Application.Time;
using Steller.Domain.Catalog;

namespace Steller.Application.Catalog.DelistingProduct;

public sealed record DelistProductRequest(string Sku, EventMetadata Metadata, long? IfMatch = null)
    : IRequest<CommandOutcome<Product>>, IValidated
{
    public void Validate(FieldErrors errors) => errors.Sku(Sku);
}

/// <summary>Delists a product (stocked or vendor) by an admin. Twice is a no-op; a later definition or sync lists it again.</summary>
public sealed class DelistProductHandler(AggregateCommands<Product, IProductCommand, IProductEvent> products, IClock clock)
    : IRequestHandler<DelistProductRequest, CommandOutcome<Product>>
{
    public const string Reason = "admin";

    public Task<CommandOutcome<Product>> Handle(DelistProductRequest request, CancellationToken ct) =>
        products.Execute(Product.StreamName(request.Sku), new DelistProduct(Reason, clock.UtcNow), request.Metadata, request.IfMatch,
            ct: ct);
}
