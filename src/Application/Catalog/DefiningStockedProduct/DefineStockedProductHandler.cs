using MediatR;
using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Application.Pipeline;
using Steller.Application.Time;
using Steller.Domain.Catalog;

namespace Steller.Application.Catalog.DefiningStockedProduct;

/// <summary>
/// A stocked product: a fixed <see cref="FaceValue"/>, or <see cref="MinFaceValue"/>–<see cref="MaxFaceValue"/> instead; its cost either
/// absolute (<see cref="CostAmount"/>, fixed face value only) or a discount off the face value (<see cref="CostDiscountBasisPoints"/>).
/// </summary>
public sealed record DefineStockedProductRequest(
    string Sku, string? Name, string? Brand, string? Country, string? Currency, string? Type,
    long? FaceValue, long? MinFaceValue, long? MaxFaceValue, long? CostAmount, int? CostDiscountBasisPoints,
    EventMetadata Metadata, long? IfMatch = null) : IRequest<CommandOutcome<Product>>, IValidated
{
    /// <summary>A face value range instead of a fixed one: no faceValue, and minFaceValue or maxFaceValue.</summary>
    public bool IsRange => FaceValue is null && (MinFaceValue is not null || MaxFaceValue is not null);

    public void Validate(FieldErrors errors)
    {
        errors.Sku(Sku)
            .Required(Name, "name", name => name is { Length: > 0 and <= 200 } && !string.IsNullOrWhiteSpace(name), "1–200 characters")
            .Required(Brand, "brand", brand => brand is { Length: > 0 and <= 100 } && !string.IsNullOrWhiteSpace(brand),
                "1–100 characters")
            .Required(Country, "country", c => c is { Length: 2 } && c.All(char.IsAsciiLetterUpper),
                "an ISO 3166-1 alpha-2 code such as DE")
            .Required(Currency, "currency", Domain.Currency.IsKnown, Domain.Currency.UnknownMessage(Currency))
            .Required(Type, "type", ProductTypes.All.Contains, $"one of {string.Join(", ", ProductTypes.All)}");
        ValidateFaceValue(errors);
        ValidateCost(errors);
    }

    private void ValidateFaceValue(FieldErrors errors)
    {
        const string min = "with maxFaceValue instead of faceValue: a positive amount ≤ maxFaceValue";
        const string max = "with minFaceValue instead of faceValue: a positive amount ≥ minFaceValue";
        if (!IsRange)
        {
            errors.Required(FaceValue, "faceValue", face => face > 0, "a positive amount in minor units")
                .Check(MinFaceValue is null, "minFaceValue", min)
                .Check(MaxFaceValue is null, "maxFaceValue", max);
            return;
        }
        errors.Required(MinFaceValue, "minFaceValue", value => value > 0, min)
            .Required(MaxFaceValue, "maxFaceValue", value => value > 0 && !(MinFaceValue > value), max);
    }

    private void ValidateCost(FieldErrors errors)
    {
        var given = (CostAmount is null ? 0 : 1) + (CostDiscountBasisPoints is null ? 0 : 1);
        errors.Check(given == 1, "cost", given == 0 ? "required" : "exactly one of costAmount and costDiscountBasisPoints")
            .Check(CostAmount is null or >= 0 && !(IsRange && CostAmount is not null), "costAmount",
                "0 or more minor units, for a fixed face value only")
            .Check(CostDiscountBasisPoints is null or (>= 0 and <= 10_000), "costDiscountBasisPoints",
                "0 to 10000 basis points off the face value");
    }
}

/// <summary>
/// Defines or updates a stocked product: the same content again changes nothing; new details, a new cost, or a delisted product
/// listed again each append what changed.
/// </summary>
public sealed class DefineStockedProductHandler(AggregateCommands<Product, IProductCommand, IProductEvent> products, IClock clock)
    : IRequestHandler<DefineStockedProductRequest, CommandOutcome<Product>>
{
    public Task<CommandOutcome<Product>> Handle(DefineStockedProductRequest request, CancellationToken ct)
    {
        var range = request.IsRange;
        var details = new ProductDetails(ProductDetails.Stocked, null, request.Name!.Trim(), request.Brand!.Trim(), request.Country!,
            request.Currency!, request.Type!, request.FaceValue, range ? request.MinFaceValue : null, range ? request.MaxFaceValue : null);
        var command = new ListProduct(request.Sku, details, new ProductCost(request.CostAmount, request.CostDiscountBasisPoints),
            clock.UtcNow);
        return products.Execute(Product.StreamName(request.Sku), command, request.Metadata, request.IfMatch, ct: ct);
    }
}
