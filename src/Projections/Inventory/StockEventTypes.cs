using Steller.Application.EventStore;
using Steller.Application.Serialization;
using Steller.Domain.Inventory;

namespace Steller.Projections.Inventory;

/// <summary>Stock events ("stock-{sku}.{location}" streams) as the stock read models subscribe to them, older versions included.</summary>
public static class StockEventTypes
{
    /// <summary>Every stock event name, current and upcast (v1 receipts, adjustments and commits are still stored as v1).</summary>
    public static IReadOnlySet<string> All { get; } = EventNames.Of<IStockEvent>();

    /// <summary>The events that move units: all but the low-threshold setting.</summary>
    public static IReadOnlySet<string> Movements { get; } = All.Except(EventNames.Of<LowThresholdSet>()).ToHashSet(StringComparer.Ordinal);
}

/// <summary>Stock streams as the stock read models read them.</summary>
public static class StockStreams
{
    /// <summary>
    /// The stock events of <paramref name="events"/> on stock streams, deserialized (upcasters included), with their item.
    /// </summary>
    public static IEnumerable<(RecordedEvent Recorded, IStockEvent Event, string Sku, string Location)> Read(EventTypeRegistry registry,
        IEnumerable<RecordedEvent> events)
    {
        foreach (var e in events)
            if (Stock.TryParseStreamName(e.StreamId, out var sku, out var location)
                && registry.Deserialize(e.Type, e.Data.Span) is IStockEvent se)
                yield return (e, se, sku, location);
    }
}
