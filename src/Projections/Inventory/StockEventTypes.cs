using Steller.Application.Serialization;
using Steller.Domain.Inventory;

namespace Steller.Projections.Inventory;

/// <summary>Stock events ("stock-{sku}.{location}" streams) as the stock read models subscribe to them, older versions included.</summary>
public static class StockEventTypes
{
    /// <summary>Every stock event name, current and upcast (v1 receipts, adjustments and commits are still stored as v1).</summary>
    public static IReadOnlySet<string> All { get; } = EventNames.Of<IStockEvent>();

    /// <summary>The events that move units: all but the low-threshold setting.</summary>
    public static IReadOnlySet<string> Movements { get; } = All.Where(n => n != "stock.low-threshold-set.v1").ToHashSet(StringComparer.Ordinal);
}
