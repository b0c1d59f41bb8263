using FluentAssertions;
using NUnit.Framework;
using Steller.Domain.Vendors;
using Steller.Domain.Wallets;
using Steller.Projections.Finance;
using static Steller.Projections.Finance.PnlMonthlyProjection;

namespace Steller.Projections.Tests.Folds;

/// <summary>The pure fold of read.pnl_monthly: months, the order holds it remembers, and checked sums.</summary>
public sealed class PnlFoldTests
{
    private const string Wallet = "wallet:p1:EUR";
    private static readonly DateTimeOffset November = new(2026, 11, 30, 23, 59, 59, TimeSpan.Zero);
    private static readonly DateTimeOffset December = November.AddSeconds(2);

    private static PnlEvent W(DateTimeOffset at, object e) => new(at, "EUR", Wallet, e);

    private static HoldCaptured Capture(string transferId, long amount, long vendorLeg) =>
        new(transferId, amount, 0, [new CaptureLeg("platform:vendor:giftcard:EUR", vendorLeg), new CaptureLeg("platform:revenue:EUR", amount - vendorLeg)]);

    [Test]
    public void each_posting_counts_in_the_utc_month_it_was_recorded_and_only_captures_of_order_holds_count_as_orders()
    {
        var changes = Fold([], [
            W(November, new HoldPlaced("o1", 25_00, null, "o1")),
            W(November, Capture("o1", 25_00, 24_00)),
            W(November, new HoldPlaced("manual", 10_00, null, null)),
            W(December, Capture("manual", 10_00, 9_00)),
            W(December, new Refunded("r1", 5_00, "o1", "platform:revenue:EUR")),
            new(December, "EUR", null, new VendorRefunded("rev-1", "EUR", 24_00, "o1", "reversed", "platform:vendor:giftcard:EUR", "platform:revenue:EUR")),
        ]);

        changes.Deltas.Should().BeEquivalentTo(new Dictionary<Key, Figures>
        {
            [new Key(new DateOnly(2026, 11, 1), "EUR")] = new(1, 25_00, 0, 24_00, 0),
            [new Key(new DateOnly(2026, 12, 1), "EUR")] = new(0, 10_00, 5_00, 9_00, 24_00),
        });
        changes.Opened.Should().BeEmpty("o1 was placed and captured in the batch");
        changes.Closed.Should().BeEmpty();
    }

    [Test]
    public void an_order_hold_from_an_earlier_batch_is_closed_by_its_capture_and_an_open_one_is_kept()
    {
        var changes = Fold([new OrderHold(Wallet, "o1", "o1")], [
            W(December, Capture("o1", 25_00, 24_00)),
            W(December, new HoldPlaced("o2", 50_00, null, "o2")),
        ]);

        changes.Deltas.Values.Single().OrdersCompleted.Should().Be(1);
        changes.Closed.Should().Equal((Wallet, "o1"));
        changes.Opened.Should().Equal(new OrderHold(Wallet, "o2", "o2"));
    }

    [Test]
    public void sums_past_int64_stop_the_fold_instead_of_wrapping()
    {
        var fold = () => Fold([], [W(November, Capture("a", long.MaxValue, 0)), W(November, Capture("b", 1, 0))]);
        fold.Should().Throw<OverflowException>();
    }
}
