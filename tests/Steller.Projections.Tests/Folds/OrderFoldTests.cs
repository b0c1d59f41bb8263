using FluentAssertions;
using NUnit.Framework;
using Steller.Domain.Orders;
using Steller.Projections.Orders;
using static Steller.Projections.Tests.Folds.FoldEvents;

namespace Steller.Projections.Tests.Folds;

/// <summary>The order read models' folds without a database.</summary>
public sealed class OrderFoldTests
{
    private static readonly OrderPlaced Placed = new("o-1", "p1", "ref-1", "hash", "EUR",
        [new OrderLine(1, "card-a", 2, 10_00, new LinePricing(9_50, 9_00, "voucher", "stocked", null, false)),
         new OrderLine(2, "card-b", 1, 25_00, new LinePricing(24_00, 23_00, "voucher", "stocked", null, false))],
        null, 2 * 9_50 + 24_00, T0);

    private static readonly IOrderEvent[] Settled =
    [
        Placed,
        new OrderFundsHeld("h-1", 43_00, []),
        new OrderSubmittedToVendor(1, "stocked", "req-1"),
        new OrderFulfilled(1, 2, [], null),
        new OrderFulfilled(2, 0, [], "out of stock"),
        new OrderCompleted(nameof(OrderStatus.PartiallyCompleted), 19_00, 24_00, 1_00, [new VendorPayable("stocked", 18_00)]),
    ];

    private static IEnumerable<OrdersProjection.OrderEvent> Recorded(params IOrderEvent[] events) =>
        events.Select((e, i) => new OrdersProjection.OrderEvent(At("order-o-1", i, (ulong)(i + 1) * 10, i), "o-1", e));

    [Test]
    public void an_order_settled_in_one_batch_is_one_row_with_its_lines()
    {
        var changes = OrdersProjection.Fold(new Dictionary<string, OrdersProjection.OrderRow>(), new Dictionary<(string, int), OrdersProjection.LineRow>(),
            Recorded(Settled));

        var order = changes.Orders.Should().ContainSingle().Subject;
        (order.Status, order.Held, order.Captured, order.Released, order.VendorCost, order.Delivered, order.Units, order.LastRevision)
            .Should().Be((nameof(OrderStatus.PartiallyCompleted), 43_00L, 19_00L, 24_00L, 18_00L, 2, 3, 5L));
        changes.Lines.Select(l => (l.LineNo, l.RequestId, l.Delivered, l.FailureReason))
            .Should().BeEquivalentTo(new[] { (1, (string?)"req-1", (int?)2, (string?)null), (2, null, 0, "out of stock") });
    }

    [Test]
    public void a_retry_starts_a_new_round_on_an_order_loaded_from_an_earlier_batch_and_leaves_the_loaded_rows_as_they_were()
    {
        var first = OrdersProjection.Fold(new Dictionary<string, OrdersProjection.OrderRow>(), new Dictionary<(string, int), OrdersProjection.LineRow>(),
            Recorded(Placed, new OrderFundsHeld("h-1", 43_00, []), new OrderFulfilled(1, 1, [], null), new OrderFailed("vendor down", 43_00)));
        var orders = first.Orders.ToDictionary(o => o.OrderId);
        var lines = first.Lines.ToDictionary(l => (l.OrderId, l.LineNo));

        var changes = OrdersProjection.Fold(orders, lines,
            [new OrdersProjection.OrderEvent(At("order-o-1", 4, 50, 4), "o-1", new OrderRetried(2, "admin"))]);

        var order = changes.Orders.Should().ContainSingle().Subject;
        (order.Status, order.Reason, order.Held, order.Released, order.Delivered).Should().Be((nameof(OrderStatus.Placed), (string?)null, 0L, 0L, 0));
        changes.Lines.Should().HaveCount(2).And.OnlyContain(l => l.Delivered == null && l.Attempts == 0);
        orders["o-1"].Status.Should().Be(nameof(OrderStatus.Failed));
        lines[("o-1", 1)].Delivered.Should().Be(1);
    }

    [Test]
    public void daily_stats_move_by_what_an_order_contributes_after_the_batch_minus_before()
    {
        var placedOnly = PartnerDailyStatsProjection.Fold(new Dictionary<string, PartnerDailyStatsProjection.Facts>(), [("o-1", Placed)]);
        placedOnly.Moved.Should().HaveCount(2).And.OnlyContain(m => m.Value.Placed == 1 && m.Value.Captured == 0);

        var loaded = placedOnly.Kept.ToDictionary(k => k.OrderId, k => k.Facts);
        var settled = PartnerDailyStatsProjection.Fold(loaded, Settled.Skip(1).Select(e => ("o-1", e)));

        var cardA = settled.Moved.Should().ContainSingle(m => m.Key.Sku == "card-a").Subject.Value;
        (cardA.Placed, cardA.Completed, cardA.Units, cardA.Captured, cardA.VendorCost, cardA.Revenue).Should().Be((0L, 1L, 2L, 19_00L, 18_00L, 1_00L));
        var cardB = settled.Moved.Should().ContainSingle(m => m.Key.Sku == "card-b").Subject.Value;
        (cardB.Placed, cardB.Completed, cardB.Units, cardB.Captured).Should().Be((0L, 1L, 0L, 0L));
        loaded["o-1"].Status.Should().Be(OrderStatus.Placed, "the fold leaves what was loaded as it was");
    }
}
