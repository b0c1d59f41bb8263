using FluentAssertions;
using NUnit.Framework;
using Steller.Domain.Orders;
using Steller.Domain.Vendors;
using Steller.Domain.Wallets;
using Steller.Projections.Finance;
using static Steller.Projections.Finance.PnlMonthlyProjection;

namespace Steller.Projections.Tests.Folds;

/// <summary>The pure fold of read.pnl_monthly: months, the split by order line, the order state it remembers, and checked sums.</summary>
public sealed class PnlFoldTests
{
    private const string Wallet = "wallet:p1:EUR";
    private static readonly DateTimeOffset November = new(2026, 11, 30, 23, 59, 59, TimeSpan.Zero);
    private static readonly DateTimeOffset December = November.AddSeconds(2);
    private static readonly DateOnly Nov = new(2026, 11, 1);
    private static readonly DateOnly Dec = new(2026, 12, 1);

    private static PnlEvent W(DateTimeOffset at, object e) => new(at, "EUR", Wallet, e, "p1");
    private static PnlEvent O(DateTimeOffset at, string orderId, IOrderEvent e) => new(at, "", null, new OrderEventOf(orderId, e));

    private static HoldCaptured Capture(string transferId, long amount, params (string Vendor, long Amount)[] vendorLegs) =>
        new(transferId, amount, 0, vendorLegs.Select(v => new CaptureLeg($"platform:vendor:{v.Vendor}:EUR", v.Amount))
            .Append(new CaptureLeg("platform:revenue:EUR", amount - vendorLegs.Sum(v => v.Amount))).ToList());

    /// <summary>A gift card line (2 × 25.00, cost 24.00 at giftcard) and a top-up line (1 × 15.00, cost 14.25 at topup).</summary>
    private static OrderPlaced TwoLineOrder(string orderId) => new(orderId, "p1", "ref-" + orderId, "hash", "EUR",
    [
        new OrderLine(1, "gc", 2, 25_00, new LinePricing(25_00, 24_00, "gift_card", "giftcard", "101", false)),
        new OrderLine(2, "tu", 1, 15_00, new LinePricing(15_00, 14_25, "top_up", "topup", "VF", false)),
    ], null, 65_00, November);

    private static VendorRefunded Reversal(string reference, long amount, string? orderId, string vendor = "giftcard") =>
        new(reference, "EUR", amount, orderId, "reversed", $"platform:vendor:{vendor}:EUR", "platform:revenue:EUR");

    [Test]
    public void a_capture_splits_by_line_into_product_type_and_vendor_and_refunds_follow_the_lines_in_the_month_they_are_recorded()
    {
        var changes = Fold([], [
            O(November, "o1", TwoLineOrder("o1")),
            W(November, new HoldPlaced("o1", 65_00, null, "o1")),
            O(November, "o1", new OrderFulfilled(1, 1, [], "vendor out of stock")), // one card of two
            O(November, "o1", new OrderFulfilled(2, 1, [], null)),
            W(November, Capture("o1", 40_00, ("giftcard", 24_00), ("topup", 14_25))),
            W(December, new Refunded("r1", 40_00, "o1", "platform:revenue:EUR")), // all of it: each line gets its own back
            new(December, "EUR", null, Reversal("rev-1", 24_00, "o1")),
        ]);

        changes.Deltas.Should().BeEquivalentTo(new Dictionary<Key, Figures>
        {
            [new Key(Nov, "p1", "gift_card", "giftcard", "EUR")] = new(25_00, 24_00, 0, 0),
            [new Key(Nov, "p1", "top_up", "topup", "EUR")] = new(15_00, 14_25, 0, 0),
            [new Key(Dec, "p1", "gift_card", "giftcard", "EUR")] = new(0, 0, 25_00, 24_00),
            [new Key(Dec, "p1", "top_up", "topup", "EUR")] = new(0, 0, 15_00, 0),
        });
        var nov = changes.Deltas.Where(d => d.Key.Month == Nov).Select(d => d.Value).Aggregate((a, b) => a + b);
        (nov.Sales, nov.VendorCost, nov.Margin, nov.Net).Should().Be((40_00, 38_25, 1_75, 1_75), "the parts add up to the capture and its legs");
        changes.Lines.Should().HaveCount(2);
        changes.Lines[0].Should().Be(changes.Lines[0] with { Delivered = 1, Sales = 25_00, VendorCost = 24_00, Refunded = 25_00, VendorRefunded = 24_00 });
        changes.Opened.Should().BeEmpty("o1 was placed and captured in the batch");
    }

    [Test]
    public void a_partial_refund_splits_in_proportion_to_what_each_line_has_not_had_back_and_the_parts_add_up_exactly()
    {
        var line1 = new LineFacts("o1", 1, "p1", "EUR", "gift_card", "giftcard", 25_00, 24_00, 1, 25_00, 24_00, 0, 0);
        var line2 = new LineFacts("o1", 2, "p1", "EUR", "top_up", "topup", 15_00, 14_25, 1, 15_00, 14_25, 0, 0);
        var changes = Fold([], [W(December, new Refunded("r1", 10_01, "o1", "platform:revenue:EUR"))], [line1, line2]);

        // 10.01 × 25/40 = 6.25625 and 10.01 × 15/40 = 3.75375: the larger remainder takes the odd cent.
        changes.Deltas.Should().BeEquivalentTo(new Dictionary<Key, Figures>
        {
            [new Key(Dec, "p1", "gift_card", "giftcard", "EUR")] = new(0, 0, 6_26, 0),
            [new Key(Dec, "p1", "top_up", "topup", "EUR")] = new(0, 0, 3_75, 0),
        });
        Allocate(5, [3, 3, 4]).Should().Equal(2, 1, 2);
        Allocate(4, [1, 1, 1]).Should().BeNull("more than the lines hold cannot be attributed to them");
    }

    [Test]
    public void what_no_order_line_explains_counts_unattributed_so_the_totals_still_equal_the_postings()
    {
        var changes = Fold([new OrderHold(Wallet, "o2", "o2")], [
            W(November, new HoldPlaced("manual", 10_00, null, null)),
            W(November, Capture("manual", 10_00, ("giftcard", 9_00))), // not an order's hold
            W(December, Capture("o2", 30_00, ("topup", 20_00))), // an order whose lines the projection never saw
            W(December, new Refunded("r9", 5_00, "unknown", "platform:revenue:EUR")),
            new(December, "EUR", null, Reversal("rev-9", 3_00, null, "topup")),
        ]);

        changes.Deltas.Should().BeEquivalentTo(new Dictionary<Key, Figures>
        {
            [new Key(Nov, "p1", "", "", "EUR")] = new(10_00, 0, 0, 0),
            [new Key(Nov, "p1", "", "giftcard", "EUR")] = new(0, 9_00, 0, 0),
            [new Key(Dec, "p1", "", "", "EUR")] = new(30_00, 0, 5_00, 0),
            [new Key(Dec, "p1", "", "topup", "EUR")] = new(0, 20_00, 0, 0),
            [new Key(Dec, "", "", "topup", "EUR")] = new(0, 0, 0, 3_00),
        });
        changes.Closed.Should().Equal((Wallet, "o2"));
    }

    [Test]
    public void a_retried_order_is_split_by_what_its_new_round_delivered()
    {
        var changes = Fold([], [
            O(November, "o1", TwoLineOrder("o1")),
            O(November, "o1", new OrderFulfilled(1, 2, [], null)),
            O(November, "o1", new OrderRetried(1, "try again")),
            W(November, new HoldPlaced("o1:retry-1", 65_00, null, "o1")),
            O(November, "o1", new OrderFulfilled(2, 1, [], null)),
            W(November, Capture("o1:retry-1", 15_00, ("topup", 14_25))),
        ]);

        changes.Deltas.Should().BeEquivalentTo(new Dictionary<Key, Figures>
        {
            [new Key(Nov, "p1", "top_up", "topup", "EUR")] = new(15_00, 14_25, 0, 0),
        });
    }

    [Test]
    public void sums_past_int64_stop_the_fold_instead_of_wrapping()
    {
        var fold = () => Fold([], [W(November, Capture("a", long.MaxValue)), W(November, Capture("b", 1))]);
        fold.Should().Throw<OverflowException>();
    }
}
