using FluentAssertions;
using Microsoft.Extensions.Logging.Abstractions;
using NUnit.Framework;
using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Application.Serialization;
using Steller.Domain;
using Steller.Domain.Inventory;
using Steller.Testing;

namespace Steller.Infrastructure.Tests.Commands;

/// <summary>The per-stream command pipeline on a real PostgreSQL event store.</summary>
public sealed class AggregateCommandsTests
{
    [Test, CancelAfter(120_000)]
    public async Task idle_streams_hold_no_lane_and_a_busy_stream_never_gets_two()
    {
        await using var db = await TestDatabase.Create("lanes");
        var store = db.CreateEventStore();
        var commands = new AggregateCommands<Stock, IStockCommand, IStockEvent>(Aggregates.StockItems, store, EventTypeRegistry.ForDomain(), NullLogger.Instance);
        var meta = new EventMetadata("c", "c", Guid.NewGuid(), "test", DateTimeOffset.UtcNow);

        // 2,000 streams touched once each: afterwards nothing is left behind.
        await Task.WhenAll(Enumerable.Range(0, 2_000).Select(i =>
            commands.Execute($"stock-s{i}.main", s => Stock.Decide(new ReceiveStock("r", 1, 1, "EUR"), s), meta)));
        // (a lane retires just after its last command completes, so allow it that moment)
        await Eventually.True(() => Task.FromResult(commands.OpenLanes == 0), TimeSpan.FromSeconds(10), "every lane retired");

        // One stream hammered in waves, so lanes retire and reopen between them: every receipt lands once, in one sequence.
        for (var wave = 0; wave < 20; wave++)
        {
            await Task.WhenAll(Enumerable.Range(0, 50).Select(i =>
                commands.Execute("stock-hot.main", s => Stock.Decide(new ReceiveStock($"w{wave}-{i}", 1, 1, "EUR"), s), meta)));
            if (wave % 2 == 0) await Task.Yield();
        }
        var events = (await store.ReadStream("stock-hot.main")).Events;
        events.Should().HaveCount(1_000);
        events.Select(e => (long)e.Revision.Value).Should().Equal(Enumerable.Range(0, 1_000).Select(i => (long)i));
        await Eventually.True(() => Task.FromResult(commands.OpenLanes == 0), TimeSpan.FromSeconds(10), "the hot lane retired too");
    }
}
