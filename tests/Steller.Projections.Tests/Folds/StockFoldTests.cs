using FluentAssertions;
using NUnit.Framework;
using Steller.Domain.Inventory;
using Steller.Projections.Engine;
using Steller.Projections.Inventory;
using static Steller.Projections.Tests.Folds.FoldEvents;

namespace Steller.Projections.Tests.Folds;

/// <summary>The stock read models' folds without a database.</summary>
public sealed class StockFoldTests
{
    private static readonly DateTimeOffset Later = T0.AddMinutes(30);

    private static readonly IStockEvent[] History =
    [
        new StockReceived("r1", 10, 4_50, "EUR"),
        new StockReserved("res-1", 3, "o-1", Later, null),
        new StockReserved("res-2", 2, "o-2", Later, null),
        new ReservationCommitted("res-1", 3),
        new ReservationReleased("res-2", 2, "cancelled"),
        new LowThresholdSet(6),
        new StockAdjusted("a1", -2, "damaged"),
    ];

    private static List<(Application.EventStore.RecordedEvent, IStockEvent, string, string)> Recorded(IEnumerable<IStockEvent> events, long firstRevision = 0) =>
        events.Select((e, i) => (At("stock-card-a.wh-1", firstRevision + i, (ulong)(firstRevision + i + 1) * 10, i), e, "card-a", "wh-1")).ToList();

    [Test]
    public void stock_levels_fold_a_batch_into_one_delta_per_item_with_the_last_threshold_and_revision()
    {
        var deltas = StockLevelsProjection.Fold(Recorded(History));

        deltas.Should().ContainSingle().Which.Value.Should().Be(
            new StockLevelsProjection.Delta(OnHand: 10 - 3 - 2, Reserved: 0, Threshold: 6, Revision: 6, Commit: 70, Prepare: 70, At: T0.AddSeconds(6).UtcDateTime));
    }

    [Test]
    public void low_stock_keeps_when_an_item_became_low_and_forgets_it_when_it_recovers()
    {
        var loaded = new Dictionary<(string, string), LowStockProjection.Item>();
        var low = LowStockProjection.Fold(loaded, Recorded(History)).Should().ContainSingle().Subject;
        (low.OnHand, low.Reserved, low.Threshold, low.LowSince).Should().Be((5L, 0L, 6L, (DateTime?)T0.AddSeconds(6).UtcDateTime));

        var recovered = LowStockProjection.Fold(new Dictionary<(string, string), LowStockProjection.Item> { [("card-a", "wh-1")] = low },
            Recorded([new StockReceived("r2", 5, 4_50, "EUR")], firstRevision: 7)).Single();
        (recovered.OnHand, recovered.LowSince).Should().Be((10L, (DateTime?)null));
        low.OnHand.Should().Be(5, "the fold leaves what was loaded as it was");
    }

    [Test]
    public void stock_movements_carry_running_totals_and_the_order_of_the_reservation_they_close()
    {
        var loaded = new StockMovementsProjection.Loaded(
            new Dictionary<(string, string), (long, long)> { [("card-a", "wh-1")] = (10, 2) },
            new Dictionary<(string, string, string), string> { [("card-a", "wh-1", "res-0")] = "o-0" });

        var rows = StockMovementsProjection.Fold(loaded, Recorded([new ReservationCommitted("res-0", 2), .. History.Take(2), new LowThresholdSet(1)]));

        rows.Select(r => (r.Kind, r.OnHandAfter, r.ReservedAfter, r.OrderId)).Should().Equal(
            ("committed", 8L, 0L, "o-0"), ("received", 18L, 0L, null), ("reserved", 18L, 3L, "o-1"));
    }

    [Test]
    public void open_items_net_a_batch_out_an_item_opened_and_closed_in_it_is_neither_written_nor_deleted()
    {
        var changes = OpenItemsProjection.Fold(
        [
            ("s1", new ItemOpened("a", 5, Later, "o-1"), T0.UtcDateTime),
            ("s1", new ItemOpened("b", 1, null, null), T0.UtcDateTime),
            ("s1", new ItemClosed("a"), T0.UtcDateTime),
            ("s2", new ItemClosed("c"), T0.UtcDateTime),
        ]);

        changes.Opened.Should().ContainSingle().Which.Should().Be(new OpenItemsProjection.OpenRow("s1", "b", 1, null, null, T0.UtcDateTime));
        changes.Closed.Should().Equal(("s2", "c"));
    }
}
