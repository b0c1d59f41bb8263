using FluentAssertions;
using NUnit.Framework;
using Steller.Application.EventStore;
using Steller.EventStoreDb.Tests.Fake;
using Steller.Infrastructure.EventStoreDb;
using Steller.Testing;

namespace Steller.EventStoreDb.Tests;

/// <summary>Lag and progress on EventStoreDB: the head of Steller's log and how many events lie after a position.</summary>
public sealed class LogStatisticsTests : OnFakeServer
{
    [Test]
    public async Task the_count_after_a_position_is_exact_for_stellers_events_and_zero_at_the_head()
    {
        using var store = new EventStoreDbEventStore(server.ConnectionString);
        IEventLogStatistics stats = store;
        (await stats.CountAfter(LogPosition.Start)).Should().Be(0, "an empty log");
        (await store.HeadPosition()).Should().BeNull();

        var wallet = "wallet-p-1-EUR";
        await store.Append(wallet, ExpectedRevision.NoStream, Events.Many(4));
        server.Log.AppendSystemEvents(3);
        await store.Append(Events.Stream("other-app"), ExpectedRevision.NoStream, Events.Many(2));
        server.Log.AppendForeign("order-elsewhere", "Thing");
        var last = await store.Append(wallet, ExpectedRevision.Exact(3), Events.Many(3));

        var log = await store.ReadAll(LogPosition.Start, 100);
        log.Should().HaveCount(7);
        (await store.HeadPosition()).Should().Be(last.Position);
        (await stats.CountAfter(LogPosition.Start)).Should().Be(7);
        (await stats.CountAfter(log[2].Position)).Should().Be(4);
        (await stats.CountAfter(last.Position)).Should().Be(0);
    }

    [Test]
    public async Task beyond_the_exact_limit_the_count_is_estimated_from_log_positions()
    {
        using var store = new EventStoreDbEventStore(server.ConnectionString, new EventStoreDbOptions { ExactCountLimit = 20 });
        var stream = "order-estimated";
        for (var i = 0; i < 4; i++) await store.Append(stream, ExpectedRevision.Any, Events.Many(100));

        var estimate = await store.CountAfter(LogPosition.Start);

        estimate.Should().BeInRange(360, 440, "400 events of one size, estimated from the first 20 within 10%");
        var exact = new EventStoreDbEventStore(server.ConnectionString, new EventStoreDbOptions { ExactCountLimit = 1_000 });
        using (exact) (await exact.CountAfter(LogPosition.Start)).Should().Be(400);
    }
}
