using Steller.Application.Commands;
using Dapper;
using FluentAssertions;
using Microsoft.Extensions.Logging.Abstractions;
using NUnit.Framework;
using Steller.Application.EventStore;
using Steller.Application.Inventory;
using Steller.Application.Serialization;
using Steller.Domain.Inventory;
using Steller.Projections.Inventory;

namespace Steller.Projections.Tests.Inventory;

public sealed class StockLevelsProjectionTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);

    private sealed record LevelRow(string Sku, string Location, long OnHand, long Reserved, long Available, long LowThreshold, bool Low, long LastRevision);

    private static async Task<Dictionary<(string, string), LevelRow>> Levels(ProjectionHarness h)
    {
        await using var conn = await h.Db.DataSource.OpenConnectionAsync();
        return (await conn.QueryAsync<LevelRow>("""
            select sku as Sku, location as Location, on_hand as OnHand, reserved as Reserved, available as Available,
                   low_threshold as LowThreshold, low as Low, last_revision as LastRevision from read.stock_levels
            """)).ToDictionary(r => (r.Sku, r.Location));
    }

    /// <summary>Receipts, adjustments, reservations committed and released, thresholds: on two skus at two locations.</summary>
    private static async Task<Dictionary<(string, string), (Stock State, long Revision)>> Write(IEventStore store)
    {
        var stock = new AggregateCommands<Stock, IStockCommand, IStockEvent>(Aggregates.StockItems, store, EventTypeRegistry.ForDomain(), NullLogger.Instance);
        var metadata = new EventMetadata("c", "c", Guid.NewGuid(), "test", Now);
        (string Sku, string Location)[] items = [("card-a", "wh-1"), ("card-a", "wh-2"), ("card-b", "wh-1")];
        foreach (var (sku, location) in items)
        {
            await stock.Execute(Stock.StreamName(sku, location), new ReceiveStock("r1", 20, 4_50, "EUR"), metadata);
            for (var i = 0; i < 6; i++) await stock.Execute(Stock.StreamName(sku, location), new ReserveStock($"res-{i}", 2, $"o-{i}", null, Now), metadata);
            await stock.Execute(Stock.StreamName(sku, location), new CommitReservation("res-0"), metadata);
            await stock.Execute(Stock.StreamName(sku, location), new CommitReservation("res-1"), metadata);
            await stock.Execute(Stock.StreamName(sku, location), new ReleaseReservation("res-2", "cancelled"), metadata);
            await stock.Execute(Stock.StreamName(sku, location), new AdjustStock("a1", -3, "damaged"), metadata);
            await stock.Execute(Stock.StreamName(sku, location), new SetLowThreshold(5), metadata);
            await stock.Execute(Stock.StreamName(sku, location), new SetLowThreshold(4), metadata);
        }
        await stock.Execute(Stock.StreamName("card-b", "wh-1"), new AdjustStock("a2", 10, "found"), metadata);
        var truth = new Dictionary<(string, string), (Stock, long)>();
        foreach (var item in items) truth[item] = await stock.Load(Stock.StreamName(item.Sku, item.Location));
        return truth;
    }

    [Test, CancelAfter(120_000)]
    public async Task stock_levels_follow_every_movement_across_small_batches_and_a_rebuild_gives_identical_levels()
    {
        await using var h = await ProjectionHarness.Create("stocklevels", batchSize: 3, rebuildBatchSize: 7);
        var projection = new StockLevelsProjection();
        h.Start(projection);
        var truth = await Write(h.Store);
        await h.Append(streams: 2, count: 5, prefix: "other"); // other events are ignored
        await h.CaughtUp(projection.Name);

        var levels = await Levels(h);
        levels.Should().HaveCount(3);
        foreach (var ((sku, location), (state, revision)) in truth)
            levels[(sku, location)].Should().BeEquivalentTo(new LevelRow(sku, location, state.OnHand, state.Reserved, state.Available, state.LowThreshold, state.IsLow, revision));
        levels[("card-a", "wh-1")].Should().BeEquivalentTo(new LevelRow("card-a", "wh-1", 13, 6, 7, 4, false, 12));
        levels[("card-b", "wh-1")].OnHand.Should().Be(23);

        var result = await h.Rebuilder.Rebuild(projection, null, default);
        result.NewGeneration.Should().Be(2);
        (await Levels(h)).Should().BeEquivalentTo(levels);
    }

    private static StockAudit Audit(ProjectionHarness h) =>
        new(h.Store, EventTypeRegistry.ForDomain(), h.Db.DataSource);

    [Test, CancelAfter(120_000)]
    public async Task the_stock_audit_is_clean_on_a_caught_up_read_model_and_names_every_drift_after_tampering()
    {
        await using var h = await ProjectionHarness.Create("stockaudit", batchSize: 5);
        var projection = new StockLevelsProjection();
        var (_, stop) = h.Start(projection);
        await Write(h.Store);
        await h.CaughtUp(projection.Name);

        var clean = await Audit(h).Run();
        clean.Drifts.Should().BeEmpty();
        clean.ComparedWithReadModel.Should().BeTrue();
        clean.Items.Should().HaveCount(3).And.OnlyContain(i => i.LowestAvailable >= 0);
        clean.StockEvents.Should().Be(3 * 13 + 1);

        await stop.CancelAsync();
        await using (var conn = await h.Db.DataSource.OpenConnectionAsync())
            await conn.ExecuteAsync("""
                update read.stock_levels set on_hand = on_hand + 1 where sku = 'card-a' and location = 'wh-2';
                delete from read.stock_levels where sku = 'card-b';
                insert into read.stock_levels (sku, location, on_hand, reserved, low_threshold, last_commit_position, last_prepare_position, last_revision, updated_at)
                values ('ghost', 'wh-9', 5, 0, 0, 0, 0, 0, now());
                """);

        var report = await Audit(h).Run();
        report.Clean.Should().BeFalse();
        report.Drifts.Select(d => (d.Sku, d.Location, d.Field)).Should().BeEquivalentTo(new[]
        {
            ("card-a", "wh-2", "on_hand"), ("card-b", "wh-1", "row"), ("ghost", "wh-9", "row"),
        });

        var asOf = await Audit(h).Run(DateTimeOffset.UtcNow.AddDays(1));
        asOf.ComparedWithReadModel.Should().BeFalse();
        asOf.Drifts.Should().BeEmpty();
    }
}
