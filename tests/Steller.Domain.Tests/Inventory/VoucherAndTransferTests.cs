using FluentAssertions;
using NUnit.Framework;
using Steller.Domain.Inventory;

namespace Steller.Domain.Tests.Inventory;

/// <summary>Voucher codes (one per unit, oldest first out) and moves between locations, as decisions.</summary>
public sealed class VoucherAndTransferTests : StockSpec
{
    private static SealedVoucher V(string receipt, int n) => new(Stock.VoucherId("main", receipt, n), "k1", $"blob-{receipt}-{n}");
    private static List<SealedVoucher> Vs(string receipt, int count) => Enumerable.Range(1, count).Select(n => V(receipt, n)).ToList();

    private static readonly StockReceived ThreeCoded = new("r1", 3, 5_00, "EUR", Vs("r1", 3));
    private static readonly StockReceived TwoMoreCoded = new("r2", 2, 5_00, "EUR", Vs("r2", 2));
    private static readonly StockReceived TenPlain = new("p1", 10, 5_00, "EUR");

    [Test]
    public void a_receipt_with_one_code_per_unit_queues_the_codes_in_arrival_order() =>
        Given(ThreeCoded).When(new ReceiveStock("r2", 2, 5_00, "EUR", Vs("r2", 2)))
            .Then(TwoMoreCoded)
            .AndState(s =>
            {
                s.HasCodes.Should().BeTrue();
                s.Vouchers.Select(v => v.VoucherId).Should().Equal(Vs("r1", 3).Concat(Vs("r2", 2)).Select(v => v.VoucherId));
            });

    [Test]
    public void committing_a_reservation_assigns_the_oldest_codes_to_the_order() =>
        Given(ThreeCoded, TwoMoreCoded, new StockReserved("res-1", 4, "order-1", Now.AddMinutes(15), null))
            .When(new CommitReservation("res-1"))
            .Then(new ReservationCommitted("res-1", 4, [V("r1", 1), V("r1", 2), V("r1", 3), V("r2", 1)]))
            .AndState(s => { s.Vouchers.Should().Equal(V("r2", 2)); s.OnHand.Should().Be(1); });

    [Test]
    public void committing_on_stock_without_codes_assigns_none() =>
        Given(TenPlain, new StockReserved("res-1", 2, "order-1", Now.AddMinutes(15), null))
            .When(new CommitReservation("res-1"))
            .Then(new ReservationCommitted("res-1", 2, null));

    [Test]
    public void codes_must_match_the_units_and_the_kind_of_stock()
    {
        Given().When(new ReceiveStock("r1", 3, 5_00, "EUR", Vs("r1", 2))).ThenFails(StockErrors.CodesCountMismatch);
        Given(ThreeCoded).When(new ReceiveStock("r9", 1, 5_00, "EUR")).ThenFails(StockErrors.CodesRequired);
        Given(TenPlain).When(new ReceiveStock("r9", 1, 5_00, "EUR", Vs("r9", 1))).ThenFails(StockErrors.CodesNotExpected);
    }

    [Test]
    public void found_units_of_coded_stock_cannot_appear_without_codes_but_losses_take_the_oldest_codes()
    {
        Given(ThreeCoded).When(new AdjustStock("a1", 1, "found")).ThenFails(StockErrors.CodesRequired);
        Given(ThreeCoded).When(new AdjustStock("a1", -2, "damaged"))
            .Then(new StockAdjusted("a1", -2, "damaged", [V("r1", 1).VoucherId, V("r1", 2).VoucherId]))
            .AndState(s => s.Vouchers.Should().Equal(V("r1", 3)));
    }

    [Test]
    public void a_transfer_out_takes_available_units_and_the_oldest_codes_with_it() =>
        Given(ThreeCoded, new StockReserved("res-1", 1, "o", Now.AddMinutes(15), null))
            .When(new TransferStockOut("t1", "main", "shop", 2))
            .Then(new StockTransferredOut("t1", "shop", 2, "EUR", [V("r1", 1), V("r1", 2)]))
            .AndState(s => { s.OnHand.Should().Be(1); s.Reserved.Should().Be(1); s.Vouchers.Should().Equal(V("r1", 3)); });

    [Test]
    public void a_transfer_cannot_take_reserved_units_or_go_to_its_own_location()
    {
        Given(ThreeCoded, new StockReserved("res-1", 2, "o", Now.AddMinutes(15), null))
            .When(new TransferStockOut("t1", "main", "shop", 2)).ThenFails(StockErrors.TransferExceedsAvailable);
        Given(ThreeCoded).When(new TransferStockOut("t1", "main", "main", 1)).ThenFails(StockErrors.SameLocation);
        Given().When(new TransferStockOut("t1", "main", "shop", 1)).ThenFails(StockErrors.TransferExceedsAvailable);
    }

    [Test]
    public void both_halves_of_a_transfer_are_idempotent_by_transfer_id()
    {
        var sent = new StockTransferredOut("t1", "shop", 2, "EUR", [V("r1", 1), V("r1", 2)]);
        Given(ThreeCoded, sent).When(new TransferStockOut("t1", "main", "shop", 2)).ThenNothingNew();
        Given(ThreeCoded, sent).When(new TransferStockOut("t1", "main", "shop", 1)).ThenFails(StockErrors.IdempotencyConflict);

        Given().When(new TransferStockIn("main", sent))
            .Then(new StockTransferredIn("t1", "main", 2, "EUR", sent.Vouchers))
            .AndState(s => { s.OnHand.Should().Be(2); s.HasCodes.Should().BeTrue(); s.Vouchers.Should().Equal(sent.Vouchers); });
        Given(new StockTransferredIn("t1", "main", 2, "EUR", sent.Vouchers)).When(new TransferStockIn("main", sent)).ThenNothingNew();
    }

    [Test]
    public void an_incoming_transfer_respects_the_receiving_stock_currency_and_codes()
    {
        var coded = new StockTransferredOut("t1", "shop", 1, "EUR", [V("r1", 1)]);
        Given(TenPlain).When(new TransferStockIn("main", coded)).ThenFails(StockErrors.CodesNotExpected);
        Given(new StockReceived("u1", 1, 5_00, "USD")).When(new TransferStockIn("main", new StockTransferredOut("t2", "shop", 1, "EUR", null)))
            .ThenFails(StockErrors.CurrencyMismatch);
    }
}
