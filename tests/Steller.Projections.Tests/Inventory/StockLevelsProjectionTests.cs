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
using Steller.Testing;

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

    [Test, CancelAfter(120_000)]
    public async Task the_stock_audit_folds_the_whole_log_past_a_stopped_read_model_and_reports_it_behind_never_clean()
    {
        await using var h = await ProjectionHarness.Create("stockbehind", batchSize: 5);
        var projection = new StockLevelsProjection();
        var (_, stop) = h.Start(projection);
        await Write(h.Store);
        await h.CaughtUp(projection.Name);
        await stop.CancelAsync();
        await Task.Delay(200);
        var checkpoint = await h.Bookkeeping.LoadCheckpoint(projection.Name, 1, default);
        // After the read model stopped: an oversell, which only a fold of the whole log can see.
        var writer = new StockEventWriter(h.Store);
        await writer.Append("card-a", "wh-2", new StockReceived("r9", 5, 4_50, "EUR"));
        await writer.AppendRaw("card-a", "wh-2", "stock.reserved.v1",
            $$"""{"reservationId":"huge","quantity":1000,"orderId":"o-x","expiresAt":"{{Now.AddHours(1):O}}","requestedExpiry":null}""");
        await h.Db.DataSource.CreateCommand("""
            insert into steller.projection_faults (name, generation, error, attempts, failed_at, position)
            values ('stock_levels', 1, 'PostgresException: 22003: bigint out of range', 3, now(), '0/0')
            """).ExecuteNonQueryAsync();

        var report = await Audit(h).Run();

        report.Clean.Should().BeFalse("a read model that is behind and stopped is never reported clean");
        report.StockEvents.Should().Be(3 * 13 + 1 + 2, "the whole log is folded, not only up to the read model's checkpoint");
        report.StockEventsBehind.Should().Be(2);
        report.ReadModelPosition.Should().Be(checkpoint.Position.ToString());
        report.ReadModelStopped.Should().Contain("22003");
        report.ReadModelNote.Should().Contain("behind").And.Contain("STOPPED");
        var item = report.Items.Single(i => i.Sku == "card-a" && i.Location == "wh-2");
        item.OnHand.Should().Be(13 + 5, "the log after the checkpoint counts");
        item.ReadModelOnHand.Should().Be(13);
        report.Drifts.Should().ContainSingle("comparing at the checkpoint finds no drift; the oversell after it is found")
            .Which.Should().BeEquivalentTo(new { Sku = "card-a", Location = "wh-2", Field = "lowest available", ReadModel = (string?)null });
        report.Result.Should().Be("drift");

        await using (var conn = await h.Db.DataSource.OpenConnectionAsync())
            await conn.ExecuteAsync("update read.stock_levels set on_hand = 99 where sku = 'card-b' and location = 'wh-1'");
        var tampered = await Audit(h).Run();
        tampered.Drifts.Should().ContainEquivalentOf(new { Sku = "card-b", Field = "on_hand", Log = "23", ReadModel = "99" },
            "the log's side and the read model's side are named as what they are");
        tampered.Drifts.Single(d => d.Field == "on_hand").Message.Should().Contain("is 23 in the log").And.Contain("but 99 in read.stock_levels");
    }

    [Test, CancelAfter(120_000)]
    public async Task a_stock_audit_of_a_read_model_that_is_only_behind_says_behind_with_both_positions()
    {
        await using var h = await ProjectionHarness.Create("stockonlybehind", batchSize: 5);
        var projection = new StockLevelsProjection();
        var (_, stop) = h.Start(projection);
        await Write(h.Store);
        await h.CaughtUp(projection.Name);
        await stop.CancelAsync();
        await Task.Delay(200);
        await new StockEventWriter(h.Store).Append("card-a", "wh-1", new StockReceived("r9", 5, 4_50, "EUR"));

        var report = await Audit(h).Run();

        report.Drifts.Should().BeEmpty();
        report.Result.Should().Be("behind");
        report.Clean.Should().BeFalse();
        report.StockEventsBehind.Should().Be(1);
        report.ReadModelPosition.Should().NotBe(report.Position);
    }
}
