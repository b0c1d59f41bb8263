using Steller.Domain.Inventory;

namespace Steller.Domain.Tests.Inventory;

/// <summary>Given events, when a command, then events or an error: the stock item's decisions read as specifications.</summary>
public abstract class StockSpec() : AggregateSpec<StockSpec, Stock, IStockCommand, IStockEvent>(Stock.Empty, Stock.Evolve, Stock.Decide)
{
}
