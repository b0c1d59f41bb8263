using FluentAssertions;
using NUnit.Framework;
using Steller.Application.EventStore;
using Steller.Domain.Orders;
using Steller.Domain.Wallets;
using Steller.Projections.Engine;
using Steller.Projections.Finance;
using Steller.Testing;

namespace Steller.Projections.Tests.Folds;

/// <summary>read.pnl_monthly over the store: what it remembers of an order in one batch splits a capture in a later one.</summary>
public sealed class PnlBatchTests
{
    private static EventData Data(object e) =>
        new(Guid.NewGuid(), ProjectionEvents.Registry.NameOf(e.GetType()), ProjectionEvents.Registry.Serialize(e), Events.Metadata());

    [Test, CancelAfter(120_000)]
    public async Task an_orders_lines_from_an_earlier_batch_split_a_capture_whose_hold_was_placed_in_the_same_batch()
    {
        await using var h = await ProjectionHarness.Create("pnlbatches");
        var projection = new PnlMonthlyProjection();
        h.Start(projection);
        OrderPlaced placed = new("o1", "p1", "ref-1", "hash", "EUR",
        [
            new OrderLine(1, "gc", 1, 25_00, new LinePricing(25_00, 24_00, "gift_card", "giftcard", "101", false)),
            new OrderLine(2, "tu", 1, 15_00, new LinePricing(15_00, 14_25, "top_up", "topup", "VF", false)),
        ], null, 40_00, DateTimeOffset.UtcNow);
        await h.Store.Append(Order.StreamName("o1"), ExpectedRevision.Any,
            [Data(placed), Data(new OrderFulfilled(1, 1, [], null)), Data(new OrderFulfilled(2, 1, [], null))]);
        await h.CaughtUp(projection.Name);

        // One append, so one batch: the hold is placed and captured without the order's events in it.
        await h.Store.Append(Wallet.StreamName("p1", "EUR"), ExpectedRevision.Any,
        [
            Data(new HoldPlaced("o1", 40_00, null, "o1")),
            Data(new HoldCaptured("o1", 40_00, 0, [new CaptureLeg(Accounts.VendorPayable("giftcard", "EUR"), 24_00),
                new CaptureLeg(Accounts.VendorPayable("topup", "EUR"), 14_25), new CaptureLeg(Accounts.Revenue("EUR"), 1_75)])),
        ]);
        await h.CaughtUp(projection.Name);

        (await h.Db.Scalar<string>("""
            select string_agg(concat_ws('/', partner_id, product_type, vendor, sales, vendor_cost, margin), ' ' order by product_type)
              from read.pnl_monthly
            """)).Should().Be("p1/gift_card/giftcard/2500/2400/100 p1/top_up/topup/1500/1425/75");
    }
}
