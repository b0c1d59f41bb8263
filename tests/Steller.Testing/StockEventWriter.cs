using System.Text;
using Steller.Application.EventStore;
using Steller.Application.Serialization;
using Steller.Domain.Inventory;

namespace Steller.Testing;

/// <summary>
/// Appends raw stock events to "stock-{sku}.{location}" without the aggregate: for read-model tests that need events
/// the commands cannot write yet (transfers, vouchers) or old shapes (v1 names). Set <see cref="Now"/>, <see cref="Actor"/>
/// and <see cref="CorrelationId"/> to choose the metadata of the next events.
/// </summary>
public sealed class StockEventWriter(IEventStore store)
{
    public static readonly EventTypeRegistry Registry = EventTypeRegistry.ForDomain();

    public DateTimeOffset? Now { get; set; }
    public string Actor { get; set; } = "test";
    public string? CorrelationId { get; set; }

    public static string Stream(string sku, string location) => $"stock-{sku}.{location}";

    /// <summary>Appends events in their current shape (registered name, JSON of the record).</summary>
    public Task<AppendResult> Append(string sku, string location, params IStockEvent[] events) =>
        store.Append(Stream(sku, location), ExpectedRevision.Any,
            events.Select(e => new EventData(Guid.NewGuid(), Registry.NameOf(e.GetType()), Registry.Serialize(e), Metadata())).ToArray());

    /// <summary>Appends one event stored under <paramref name="type"/> with this JSON (an older version, say).</summary>
    public Task<AppendResult> AppendRaw(string sku, string location, string type, string json) =>
        store.Append(Stream(sku, location), ExpectedRevision.Any, [new EventData(Guid.NewGuid(), type, Encoding.UTF8.GetBytes(json), Metadata())]);

    private EventMetadata Metadata()
    {
        var at = Now ?? new DateTimeOffset(DateTime.UtcNow.Ticks / 10 * 10, TimeSpan.Zero);
        return new EventMetadata(CorrelationId ?? $"corr-{Guid.NewGuid():N}", $"cause-{Guid.NewGuid():N}", Guid.NewGuid(), Actor, at);
    }
}
