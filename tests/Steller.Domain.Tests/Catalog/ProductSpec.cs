using FluentAssertions;
using Steller.Domain.Catalog;

namespace Steller.Domain.Tests.Catalog;

/// <summary>Given product events, when a command, then events or an error: the product's decisions read as specifications.</summary>
public abstract class ProductSpec() : AggregateSpec<ProductSpec, Product, IProductCommand, IProductEvent>(Product.Empty, Product.Evolve, Product.Decide)
{
    protected const string Sku = "giftcard-amazon-de-25";
    protected static readonly ProductDetails AmazonDe25 = new("giftcard", "AMZ-DE-25", "Amazon.de 25 EUR", "Amazon", "DE", "EUR", ProductTypes.GiftCard, 25_00, null, null);
    protected static readonly ProductCost Cost2400 = ProductCost.Absolute(24_00);
    protected static readonly ProductListed Listed = new(Sku, "giftcard", "AMZ-DE-25", "Amazon.de 25 EUR", "Amazon", "DE", "EUR", ProductTypes.GiftCard,
        25_00, null, null, 24_00, null, Now.AddDays(-1));
}
