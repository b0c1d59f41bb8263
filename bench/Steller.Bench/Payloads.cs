using System.Text.Json;
using Steller.Application.EventStore;

namespace Steller.Bench;

// The same three small events go to both stores: Steller gets their JSON under a versioned type name,
// Marten gets the objects and serializes them itself.
public sealed record ItemAdded(string Sku, int Quantity, long UnitPriceMinor, string Currency);
public sealed record ItemRemoved(string Sku, int Quantity, string Reason);
public sealed record CartCheckedOut(string OrderId, long TotalMinor, string Currency, string PaymentReference);

public static class Payloads
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static object Event(long n) => (n % 3) switch
    {
        0 => new ItemAdded($"SKU-{n % 9973:D5}", (int)(n % 7) + 1, 1_250 + n % 5_000, "EUR"),
        1 => new ItemRemoved($"SKU-{n % 9973:D5}", 1, "customer-changed-mind"),
        _ => new CartCheckedOut($"ord_{n:D12}", 12_345 + n % 100_000, "EUR", $"pay_{n:x16}"),
    };

    public static string StellerType(object e) => e switch
    {
        ItemAdded => "bench.item-added.v1",
        ItemRemoved => "bench.item-removed.v1",
        CartCheckedOut => "bench.cart-checked-out.v1",
        _ => throw new ArgumentOutOfRangeException(nameof(e)),
    };

    /// <summary>Steller's form of events n .. n+count-1, serialized here as an application would.</summary>
    public static EventData[] StellerEvents(long n, int count, Guid commandId)
    {
        var metadata = new EventMetadata(CorrelationId: commandId.ToString("N"), CausationId: commandId.ToString("N"),
            CommandId: commandId, Actor: "bench", RecordedAt: DateTimeOffset.UtcNow);
        var events = new EventData[count];
        for (var i = 0; i < count; i++)
        {
            var e = Event(n + i);
            events[i] = new EventData(Guid.CreateVersion7(), StellerType(e), JsonSerializer.SerializeToUtf8Bytes(e, e.GetType(), Json), metadata);
        }
        return events;
    }

    public static object[] MartenEvents(long n, int count)
    {
        var events = new object[count];
        for (var i = 0; i < count; i++) events[i] = Event(n + i);
        return events;
    }
}
