using FluentAssertions;
using NUnit.Framework;
using Steller.Domain.Inventory;

namespace Steller.Domain.Tests.Inventory;

public sealed class StockTests : StockSpec
{
    private static readonly StockReceived Hundred = new("r1", 100, 4_50, "EUR");

    [Test]
    public void receiving_adds_to_on_hand_and_available() =>
        Given().When(new ReceiveStock("r1", 100, 4_50, "EUR"))
            .Then(new StockReceived("r1", 100, 4_50, "EUR"))
            .AndState(s => { s.OnHand.Should().Be(100); s.Available.Should().Be(100); s.Currency.Should().Be("EUR"); });

    [Test]
    public void the_same_receipt_twice_is_a_no_op_and_different_content_under_its_id_is_a_conflict()
    {
        Given(Hundred).When(new ReceiveStock("r1", 100, 4_50, "EUR")).ThenNothingNew();
        Given(Hundred).When(new ReceiveStock("r1", 99, 4_50, "EUR")).ThenFails(StockErrors.IdempotencyConflict);
    }

    [Test]
    public void a_receipt_in_another_currency_or_without_units_is_refused()
    {
        Given(Hundred).When(new ReceiveStock("r2", 10, 4_50, "USD")).ThenFails(StockErrors.CurrencyMismatch);
        Given().When(new ReceiveStock("r2", 0, 4_50, "EUR")).ThenFails(StockErrors.InvalidQuantity);
        Given().When(new ReceiveStock("r2", 1, -1, "EUR")).ThenFails(StockErrors.InvalidUnitCost);
    }

    [Test]
    public void a_reservation_takes_available_stock_but_not_on_hand_and_expires_after_15_minutes_by_default() =>
        Given(Hundred).When(new ReserveStock("res-1", 3, "order-1", null, Now))
            .Then(new StockReserved("res-1", 3, "order-1", Now.AddMinutes(15), null))
            .AndState(s => { s.OnHand.Should().Be(100); s.Reserved.Should().Be(3); s.Available.Should().Be(97); });

    [Test]
    public void a_reservation_larger_than_available_is_refused_as_stock_exhausted() =>
        Given(Hundred, new StockReserved("res-1", 98, "o", Now.AddMinutes(15), null))
            .When(new ReserveStock("res-2", 3, "o2", null, Now))
            .ThenFails(StockErrors.Exhausted);

    [Test]
    public void reserving_with_no_stock_at_all_is_stock_exhausted() =>
        Given().When(new ReserveStock("res-1", 1, "o", null, Now)).ThenFails(StockErrors.Exhausted);

    [Test]
    public void a_reservation_is_idempotent_by_id_even_with_the_default_expiry_and_different_content_is_a_conflict()
    {
        var reserved = new StockReserved("res-1", 2, "order-1", Now.AddMinutes(15), null);
        Given(Hundred, reserved).When(new ReserveStock("res-1", 2, "order-1", null, Now.AddMinutes(5))).ThenNothingNew()
            .AndState(s => s.Reserved.Should().Be(2));
        Given(Hundred, reserved).When(new ReserveStock("res-1", 3, "order-1", null, Now)).ThenFails(StockErrors.IdempotencyConflict);
        Given(Hundred, reserved).When(new ReserveStock("res-1", 2, "order-2", null, Now)).ThenFails(StockErrors.IdempotencyConflict);
    }

    [Test]
    public void a_reservation_cannot_expire_in_the_past() =>
        Given(Hundred).When(new ReserveStock("res-1", 1, "o", Now.AddSeconds(-1), Now)).ThenFails(StockErrors.ExpiryInPast);

    [Test]
    public void committing_takes_the_units_out_of_on_hand_and_reserved() =>
        Given(Hundred, new StockReserved("res-1", 3, "o", Now.AddMinutes(15), null))
            .When(new CommitReservation("res-1"))
            .Then(new ReservationCommitted("res-1", 3))
            .AndState(s => { s.OnHand.Should().Be(97); s.Reserved.Should().Be(0); s.Available.Should().Be(97); });

    [Test]
    public void committing_twice_is_a_no_op_and_committing_after_a_release_is_refused()
    {
        var reserved = new StockReserved("res-1", 3, "o", Now.AddMinutes(15), null);
        Given(Hundred, reserved, new ReservationCommitted("res-1", 3)).When(new CommitReservation("res-1")).ThenNothingNew();
        Given(Hundred, reserved, new ReservationReleased("res-1", 3, "expired")).When(new CommitReservation("res-1")).ThenFails(StockErrors.ReservationReleased);
        Given(Hundred).When(new CommitReservation("nope")).ThenFails(StockErrors.ReservationNotFound);
    }

    [Test]
    public void releasing_makes_the_units_available_again_twice_is_a_no_op_and_after_a_commit_is_refused()
    {
        var reserved = new StockReserved("res-1", 3, "o", Now.AddMinutes(15), null);
        Given(Hundred, reserved).When(new ReleaseReservation("res-1", "cancelled"))
            .Then(new ReservationReleased("res-1", 3, "cancelled"))
            .AndState(s => { s.OnHand.Should().Be(100); s.Reserved.Should().Be(0); });
        Given(Hundred, reserved, new ReservationReleased("res-1", 3, "failed")).When(new ReleaseReservation("res-1", "expired")).ThenNothingNew();
        Given(Hundred, reserved, new ReservationCommitted("res-1", 3)).When(new ReleaseReservation("res-1", "expired")).ThenFails(StockErrors.ReservationCommitted);
        Given(Hundred, reserved).When(new ReleaseReservation("res-1", "bored")).ThenFails(StockErrors.InvalidReason);
    }

    [Test]
    public void a_negative_adjustment_below_what_is_reserved_is_refused() =>
        Given(Hundred, new StockReserved("res-1", 60, "o", Now.AddMinutes(15), null))
            .When(new AdjustStock("a1", -41, "damaged"))
            .ThenFails(StockErrors.InsufficientStock);

    [Test]
    public void adjustments_carry_a_known_reason_are_signed_and_idempotent_by_id()
    {
        Given(Hundred).When(new AdjustStock("a1", -40, "damaged")).Then(new StockAdjusted("a1", -40, "damaged"))
            .AndState(s => s.OnHand.Should().Be(60));
        Given(Hundred).When(new AdjustStock("a1", 5, "found")).Then(new StockAdjusted("a1", 5, "found"))
            .AndState(s => s.OnHand.Should().Be(105));
        Given(Hundred, new StockAdjusted("a1", 5, "found")).When(new AdjustStock("a1", 5, "found")).ThenNothingNew();
        Given(Hundred, new StockAdjusted("a1", 5, "found")).When(new AdjustStock("a1", 6, "found")).ThenFails(StockErrors.IdempotencyConflict);
        Given(Hundred).When(new AdjustStock("a2", 5, "stolen")).ThenFails(StockErrors.InvalidReason);
        Given(Hundred).When(new AdjustStock("a2", 0, "found")).ThenFails(StockErrors.InvalidQuantity);
    }

    [Test]
    public void the_low_threshold_flags_low_stock_and_setting_it_again_is_a_no_op()
    {
        Given(Hundred).When(new SetLowThreshold(100)).Then(new LowThresholdSet(100)).AndState(s => s.IsLow.Should().BeTrue());
        Given(Hundred).When(new SetLowThreshold(99)).Then(new LowThresholdSet(99)).AndState(s => s.IsLow.Should().BeFalse());
        Given(Hundred, new LowThresholdSet(10)).When(new SetLowThreshold(10)).ThenNothingNew();
        Given(Hundred).When(new SetLowThreshold(-1)).ThenFails(StockErrors.InvalidThreshold);
    }

    [TestCase("gift-card-25", true)]
    [TestCase("a", true)]
    [TestCase("", false)]
    [TestCase("-x", false)]
    [TestCase("Upper", false)]
    [TestCase("a.b", false)]
    public void sku_and_location_ids_are_1_to_64_of_lowercase_letters_digits_and_dashes(string id, bool valid)
    {
        Stock.IsValidId(id).Should().Be(valid);
        Stock.IsValidId(new string('a', 65)).Should().BeFalse();
    }
}
