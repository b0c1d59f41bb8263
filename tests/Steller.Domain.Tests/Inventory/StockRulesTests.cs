using FluentAssertions;
using NUnit.Framework;
using Steller.Domain.Inventory;

namespace Steller.Domain.Tests.Inventory;

/// <summary>Quantities never wrap: every quantity and every level stays within ±<see cref="Quantity.Max"/>.</summary>
public sealed class StockBoundsTests : StockSpec
{
    private const long Max = Quantity.Max;
    private static readonly StockReceived Ten = new("r0", 10, 4_50, "EUR");
    private static readonly StockReceived Full = new("r0", Max, 4_50, "EUR");

    [Test]
    public void an_adjustment_of_the_smallest_long_is_refused_before_anything_negates_it() =>
        Given(Ten).When(new AdjustStock("a1", long.MinValue, "count_correction")).ThenFails(Quantity.OutOfRange)
            .AndState(s => s.OnHand.Should().Be(10));

    [Test]
    public void receiving_the_largest_long_or_past_the_bound_is_refused()
    {
        Given().When(new ReceiveStock("r1", long.MaxValue, 1, "EUR")).ThenFails(Quantity.OutOfRange);
        Given(Full).When(new ReceiveStock("r1", 1, 1, "EUR")).ThenFails(Quantity.OutOfRange).AndState(s => s.OnHand.Should().Be(Max));
        Given().When(new ReceiveStock("r1", Max, 1, "EUR")).ThenEvents(e => e.Should().ContainSingle());
    }

    [Test]
    public void found_units_past_the_bound_are_refused() =>
        Given(Full).When(new AdjustStock("a1", 1, "found")).ThenFails(Quantity.OutOfRange);

    [Test]
    public void the_receiving_side_of_a_transfer_past_the_bound_is_refused() =>
        Given(Full).When(new TransferStockIn("shop", new StockTransferredOut("t1", "main", 1, "EUR", null)))
            .ThenFails(Quantity.OutOfRange);

    [Test]
    public void transfers_reservations_thresholds_and_unit_costs_past_their_bounds_are_refused()
    {
        Given(Ten).When(new TransferStockOut("t1", "main", "shop", long.MaxValue)).ThenFails(Quantity.OutOfRange);
        Given(Ten).When(new ReserveStock("res-1", long.MaxValue, "o", null, Now)).ThenFails(Quantity.OutOfRange);
        Given(Ten).When(new SetLowThreshold(Max + 1)).ThenFails(Quantity.OutOfRange);
        Given().When(new ReceiveStock("r1", 1, Money.MaxMinorUnits + 1, "EUR")).ThenFails(Money.AmountOutOfRange);
    }

    [Test]
    public void folding_a_receipt_that_would_wrap_on_hand_throws_instead_of_wrapping()
    {
        var top = Stock.Evolve(Stock.Empty, new StockReceived("r1", long.MaxValue, 1, "EUR"));
        var wrap = () => Stock.Evolve(top, new StockReceived("r2", 1, 1, "EUR"));
        wrap.Should().Throw<OverflowException>();
    }
}

/// <summary>Adjustments, thresholds and refusals that say what they mean.</summary>
public sealed class StockRulesTests : StockSpec
{
    private static readonly StockReceived Ten = new("r0", 10, 4_50, "EUR");

    [TestCase("damaged")]
    [TestCase("expired")]
    public void a_reason_that_takes_units_away_cannot_add_them(string reason) =>
        Given(Ten).When(new AdjustStock("a1", 3, reason)).ThenFails(StockErrors.ReasonTakesAway);

    [Test]
    public void found_cannot_take_units_away() =>
        Given(Ten).When(new AdjustStock("a1", -3, "found")).ThenFails(StockErrors.ReasonAdds);

    [Test]
    public void a_count_correction_goes_either_way()
    {
        Given(Ten).When(new AdjustStock("a1", 3, "count_correction")).Then(new StockAdjusted("a1", 3, "count_correction"));
        Given(Ten).When(new AdjustStock("a1", -3, "count_correction")).Then(new StockAdjusted("a1", -3, "count_correction"));
    }

    [Test]
    public void found_units_on_an_item_never_stocked_are_refused_because_they_would_have_no_cost_or_currency() =>
        Given().When(new AdjustStock("a1", 3, "found")).ThenFails(StockErrors.NeverStocked)
            .AndState(s => { s.OnHand.Should().Be(0); s.Currency.Should().BeNull(); });

    [Test]
    public void a_threshold_on_an_item_that_does_not_exist_is_refused_as_not_found() =>
        Given().When(new SetLowThreshold(5)).ThenFails(StockErrors.NotFound);

    [Test]
    public void a_threshold_on_a_stocked_item_is_set() =>
        Given(Ten).When(new SetLowThreshold(5)).Then(new LowThresholdSet(5));

    [Test]
    public void a_refused_transfer_says_it_is_the_transfer_that_asks_too_much()
    {
        Given(Ten).When(new TransferStockOut("t1", "main", "shop", 11)).ThenFails(StockErrors.TransferExceedsAvailable);
        StockErrors.TransferExceedsAvailable.Message.Should().Contain("transfer").And.NotContain("adjustment");
        StockErrors.TransferExceedsAvailable.Code.Should().Be("insufficient_stock");
    }

    [Test]
    public void a_receipt_in_a_currency_no_one_uses_is_refused_naming_it() =>
        Given().When(new ReceiveStock("r1", 1, 1, "QQQ")).ThenFails(StockErrors.UnknownCurrency("QQQ"));
}
