using Dapper;
using FluentAssertions;
using NUnit.Framework;
using Steller.Domain.Inventory;
using Steller.Projections.Inventory;
using Steller.Testing;

namespace Steller.Projections.Tests.Inventory;

public sealed class LowStockProjectionTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);

    private sealed record LowRow(string Sku, string Location, long Available, long Threshold, DateTime LowSince);

    private static async Task<List<LowRow>> Low(ProjectionHarness h)
    {
        await using var conn = await h.Db.DataSource.OpenConnectionAsync();
        return (await conn.QueryAsync<LowRow>(
            "select sku as Sku, location as Location, available as Available, threshold as Threshold, low_since as LowSince from read.low_stock order by sku, location")).ToList();
    }

    [Test, CancelAfter(120_000)]
    public async Task an_item_is_listed_from_the_event_that_made_it_low_until_it_recovers_and_a_threshold_change_can_do_either()
    {
        await using var h = await ProjectionHarness.Create("lowstock", batchSize: 2, rebuildBatchSize: 3);
        var projection = new LowStockProjection();
        h.Start(projection);
        var w = new StockEventWriter(h.Store);
        var minute = 0;

        async Task<List<LowRow>> After(string sku, params IStockEvent[] events)
        {
            foreach (var e in events)
            {
                w.Now = T0.AddMinutes(++minute);
                await w.Append(sku, "wh-1", e);
            }
            await h.CaughtUp(projection.Name);
            return await Low(h);
        }
        DateTime At(int m) => T0.AddMinutes(m).UtcDateTime;

        (await After("card-a", new StockReceived("r1", 10, 100, "EUR"), new LowThresholdSet(5)))
            .Should().BeEmpty("10 available is above a threshold of 5");
        (await After("card-a", new StockReserved("res-1", 5, "o-1", T0.AddHours(1), null)))
            .Should().Equal(new LowRow("card-a", "wh-1", 5, 5, At(3)));                      // becomes low: at the threshold
        (await After("card-a", new StockReserved("res-2", 2, "o-2", T0.AddHours(1), null), new ReservationReleased("res-2", 2, "cancelled")))
            .Should().Equal([new LowRow("card-a", "wh-1", 5, 5, At(3))], "still low after dipping further and coming back: low since the first time");
        (await After("card-a", new StockAdjusted("a1", 3, "found")))
            .Should().BeEmpty("8 available recovers above 5");
        (await After("card-a", new LowThresholdSet(20)))
            .Should().Equal(new LowRow("card-a", "wh-1", 8, 20, At(7)));                    // a higher threshold makes it low
        (await After("card-a", new LowThresholdSet(15)))
            .Should().Equal([new LowRow("card-a", "wh-1", 8, 15, At(7))], "a change of threshold that leaves it low keeps low_since");
        (await After("card-b", new StockReceived("r1", 1, 100, "EUR"), new LowThresholdSet(1), new StockTransferredOut("t1", "wh-2", 1, "EUR", null)))
            .Should().Equal(new LowRow("card-a", "wh-1", 8, 15, At(7)), new LowRow("card-b", "wh-1", 0, 1, At(10)));
        (await After("card-a", new LowThresholdSet(0)))
            .Should().Equal([new LowRow("card-b", "wh-1", 0, 1, At(10))], "threshold 0 turns the flag off");

        var before = await Low(h);
        (await h.Rebuilder.Rebuild(projection, null, default)).NewGeneration.Should().Be(2);
        (await Low(h)).Should().Equal(before);
    }
}
