using FluentAssertions;
using NUnit.Framework;
using Steller.Application.EventStore;
using Steller.Application.Serialization;
using Steller.Projections.Tests.Orders;
using Steller.Projections.Webhooks;
using Steller.Testing;

namespace Steller.Projections.Tests.Webhooks;

/// <summary>
/// The webhook follower describes an order event from the order cache when this process holds the order at exactly that event's
/// revision; a replay reads the stream. A receiver must get the same bytes both ways.
/// </summary>
public sealed class WebhookOrderCacheTests
{
    [Test, CancelAfter(120_000)]
    public async Task an_order_message_described_from_the_cache_is_byte_for_byte_the_one_read_from_the_stream()
    {
        await using var db = await TestDatabase.Create("webhook_order_cache");
        var store = db.CreateEventStore();
        var scenario = new OrderScenario(store);
        await scenario.WriteAll();
        var registry = EventTypeRegistry.ForDomain();
        var log = await store.ReadAll(LogPosition.Start, 10_000);

        var fromCache = await new WebhookEvents(store, registry, scenario.Commands).DescribeAll(log, CancellationToken.None);
        var fromStream = await new WebhookEvents(store, registry).DescribeAll(log, CancellationToken.None);

        var messages = fromStream.Select((m, i) => (Stream: m, Cached: fromCache[i], Event: log[i])).Where(m => m.Stream is not null).ToList();
        messages.Select(m => m.Stream!.Type).Should().Contain(["order.completed", "order.partially_completed", "order.failed",
            "order.rejected", "order.cancelled", "order.refunded"], "the scenario ends orders every way");
        var cachedHits = messages.Count(m => scenario.Commands.TryCachedAt(m.Event.StreamId, m.Event.Revision.Value, out _));
        cachedHits.Should().BeGreaterThanOrEqualTo(5, "each order's last event is where the cache holds it");
        cachedHits.Should().BeLessThan(messages.Count, "an order refunded after it completed is read for its completion");
        foreach (var (stream, cached, e) in messages)
            cached!.Body.Should().Be(stream!.Body, $"{e.Type} at {e.StreamId}@{e.Revision.Value} is the same message either way");
    }
}
