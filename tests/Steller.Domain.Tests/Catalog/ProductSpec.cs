using FluentAssertions;
using Steller.Domain.Catalog;

namespace Steller.Domain.Tests.Catalog;

/// <summary>Given product events, when a command, then events or an error: the product's decisions read as specifications.</summary>
public abstract class ProductSpec
{
    protected static readonly DateTimeOffset Now = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);
    protected const string Sku = "giftcard-amazon-de-25";
    protected static readonly ProductDetails AmazonDe25 = new("giftcard", "AMZ-DE-25", "Amazon.de 25 EUR", "Amazon", "DE", "EUR", ProductTypes.GiftCard, 25_00, null, null);
    protected static readonly ProductCost Cost2400 = ProductCost.Absolute(24_00);
    protected static readonly ProductListed Listed = new(Sku, "giftcard", "AMZ-DE-25", "Amazon.de 25 EUR", "Amazon", "DE", "EUR", ProductTypes.GiftCard,
        25_00, null, null, 24_00, null, Now.AddDays(-1));

    private Product state = Product.Empty;
    private Decision<IProductEvent>? decision;

    public ProductSpec Given(params IProductEvent[] events)
    {
        state = events.Aggregate(Product.Empty, Product.Evolve);
        return this;
    }

    public ProductSpec When(IProductCommand command)
    {
        decision = Product.Decide(command, state);
        if (!decision.Failed) state = decision.Events.Aggregate(state, Product.Evolve);
        return this;
    }

    public ProductSpec Then(params IProductEvent[] expected)
    {
        decision!.Error.Should().BeNull();
        decision.Events.Should().BeEquivalentTo(expected, o => o.RespectingRuntimeTypes().WithStrictOrdering());
        return this;
    }

    public ProductSpec ThenNothingNew()
    {
        decision!.Error.Should().BeNull();
        decision.IsNoOp.Should().BeTrue("a repeat is a no-op");
        return this;
    }

    public ProductSpec ThenFails(DomainError error)
    {
        decision!.Error.Should().Be(error);
        return this;
    }

    public ProductSpec AndState(Action<Product> check)
    {
        check(state);
        return this;
    }
}
