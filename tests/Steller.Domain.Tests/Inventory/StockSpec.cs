using FluentAssertions;
using Steller.Domain;
using Steller.Domain.Inventory;

namespace Steller.Domain.Tests.Inventory;

/// <summary>Given events, when a command, then events or an error: the stock item's decisions read as specifications.</summary>
public abstract class StockSpec
{
    protected static readonly DateTimeOffset Now = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);
    private Stock state = Stock.Empty;
    private Decision<IStockEvent>? decision;

    public StockSpec Given(params IStockEvent[] events)
    {
        state = events.Aggregate(Stock.Empty, Stock.Evolve);
        return this;
    }

    public StockSpec When(IStockCommand command)
    {
        decision = Stock.Decide(command, state);
        if (!decision.Failed) state = decision.Events.Aggregate(state, Stock.Evolve);
        return this;
    }

    public StockSpec Then(params IStockEvent[] expected)
    {
        decision!.Error.Should().BeNull();
        decision.Events.Should().BeEquivalentTo(expected, o => o.RespectingRuntimeTypes().WithStrictOrdering());
        return this;
    }

    public StockSpec ThenNothingNew()
    {
        decision!.Error.Should().BeNull();
        decision.IsNoOp.Should().BeTrue("a repeat is a no-op");
        return this;
    }

    public StockSpec ThenFails(DomainError error)
    {
        decision!.Error.Should().Be(error);
        return this;
    }

    public StockSpec AndState(Action<Stock> check)
    {
        check(state);
        return this;
    }
}
