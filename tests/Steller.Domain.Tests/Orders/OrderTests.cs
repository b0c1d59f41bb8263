using FluentAssertions;
using NUnit.Framework;
using Steller.Domain.Orders;

namespace Steller.Domain.Tests.Orders;

/// <summary>Given events, when a command, then events or an error: the order's state machine as specifications.</summary>
public sealed class OrderTests() : AggregateSpec<OrderTests, Order, IOrderCommand, IOrderEvent>(Order.Empty, Order.Evolve, Order.Decide)
{
    private const string Id = "ord-aaaaaaaaaaaaaaaaaaaaaaaaaa";

    private static OrderLine GiftCard(int no, int quantity = 2) => new(no, "giftcard-amazon-de-25", quantity, 25_00, new LinePricing(24_00, 23_00, "gift_card", "giftcard", "amz-25", false));
    private static OrderLine Voucher(int no, int quantity = 1) => new(no, "stocked-cinema", quantity, 10_00, new LinePricing(9_50, 8_00, "voucher", LineSources.Stocked, null, false));
    private static OrderLine BelowCost(int no) => new(no, "topup-x", 1, 10_00, new LinePricing(9_00, 9_50, "top_up", "topup", "x", true));

    private static OrderPlaced Placed(params OrderLine[] lines) => new(Id, "p1", "ref-1", "hash-1", "EUR", lines, null, lines.Sum(l => l.Price), Now);
    private static readonly DeliveredCard Card = new("s1", new SealedValue("k", "blob", "ctx"), null, null);
    private static OrderSubmittedToVendor Submitted(int line, string source) => new(line, source, Order.RequestIdOf(Id, line));

    private static PlaceOrder Place(string hash = "hash-1", OrderRejected? rejection = null, params OrderLine[] lines) =>
        new(Id, "p1", "ref-1", hash, "EUR", lines.Length > 0 ? lines : [GiftCard(1)], null, rejection, Now);

    private static readonly IOrderEvent[] HeldGiftCard = [Placed(GiftCard(1)), new OrderFundsHeld(Id, 48_00, [])];
    private static readonly IOrderEvent[] CompletedGiftCard = [.. HeldGiftCard, Submitted(1, "giftcard"), new OrderFulfilled(1, 2, [Card, Card], null),
        new OrderCompleted("Completed", 48_00, 0, 2_00, [new VendorPayable("giftcard", 46_00)])];

    [Test]
    public void placing_records_the_priced_lines_and_the_total() =>
        GivenNothing().When(Place(lines: [GiftCard(1), Voucher(2)]))
            .ThenEvents(e => e.Should().ContainSingle().Which.Should().BeOfType<OrderPlaced>().Which.Total.Should().Be(2 * 24_00 + 9_50));

    [Test]
    public void the_same_request_again_is_a_no_op()
    {
        Given(Placed(GiftCard(1))).When(Place()).ThenNothingNew();
    }

    [Test]
    public void another_body_under_the_same_reference_is_a_conflict() =>
        Given(Placed(GiftCard(1))).When(Place(hash: "other")).ThenFails(OrderErrors.IdempotencyConflict);

    [Test]
    public void a_pricing_rejection_is_recorded_with_the_placement_in_one_decision() =>
        GivenNothing().When(Place(rejection: new OrderRejected("unknown_sku", "no such sku")))
            .ThenEvents(e =>
            {
                e.Should().HaveCount(2);
                e[1].Should().Be(new OrderRejected("unknown_sku", "no such sku"));
            })
            .AndState(s => s.Status.Should().Be(OrderStatus.Rejected));

    [Test]
    public void starting_fulfilment_records_one_deterministic_request_id_per_line_and_only_once() =>
        Given(Placed(GiftCard(1), Voucher(2)), new OrderFundsHeld(Id, 57_50, [new LineReservation(2, "main", Order.RequestIdOf(Id, 2), 1)]))
            .When(new StartFulfilment())
            .Then(Submitted(1, "giftcard"), Submitted(2, LineSources.Stocked))
            .When(new StartFulfilment())
            .ThenNothingNew();

    [Test]
    public void request_ids_are_guids_fixed_by_order_and_line()
    {
        Guid.TryParse(Order.RequestIdOf(Id, 1), out _).Should().BeTrue("vendors take GUID request ids");
        Order.RequestIdOf(Id, 1).Should().Be(Order.RequestIdOf(Id, 1)).And.NotBe(Order.RequestIdOf(Id, 2));
        Order.RequestIdOf("ord-bbbbbbbbbbbbbbbbbbbbbbbbbb", 1).Should().NotBe(Order.RequestIdOf(Id, 1));
    }

    [Test]
    public void an_order_can_be_cancelled_until_fulfilment_starts() =>
        Given(HeldGiftCard).When(new CancelOrder("timeout")).Then(new OrderCancelled("timeout"));

    [Test]
    public void an_order_cannot_be_cancelled_once_fulfilment_started() =>
        Given([.. HeldGiftCard, Submitted(1, "giftcard")]).When(new CancelOrder("timeout")).ThenFails(OrderErrors.AlreadyStarted);

    [Test]
    public void a_cancelled_order_is_never_fulfilled() =>
        Given([.. HeldGiftCard, new OrderCancelled("timeout")]).When(new StartFulfilment()).ThenFails(OrderErrors.InvalidTransition);

    [Test]
    public void the_first_final_result_of_a_line_stands() =>
        Given([.. HeldGiftCard, Submitted(1, "giftcard"), new OrderFulfilled(1, 2, [Card, Card], null)])
            .When(new RecordLineFulfilled(1, 0, [], "late failure"))
            .ThenNothingNew();

    [Test]
    public void a_partial_delivery_captures_only_what_was_delivered_with_vendor_and_revenue_legs() =>
        Given(Placed(GiftCard(1, quantity: 4), Voucher(2)), new OrderFundsHeld(Id, 4 * 24_00 + 9_50, []), Submitted(1, "giftcard"), Submitted(2, LineSources.Stocked),
                new OrderFulfilled(1, 3, [Card, Card, Card], "one card failed"), new OrderFulfilled(2, 1, [Card], null))
            .When(new Settle())
            .Then(new OrderCompleted("PartiallyCompleted", 3 * 24_00 + 9_50, 24_00, 3 * 1_00 + 1_50,
                [new VendorPayable("giftcard", 3 * 23_00), new VendorPayable(LineSources.Stocked, 8_00)]))
            .ThenEvents(e =>
            {
                var done = (OrderCompleted)e[0];
                (done.Revenue + done.Payables.Sum(p => p.Amount)).Should().Be(done.Captured, "captured = revenue + vendor payables");
            });

    [Test]
    public void a_sale_below_cost_settles_with_negative_revenue() =>
        Given(Placed(BelowCost(1)), new OrderFundsHeld(Id, 9_00, []), Submitted(1, "topup"), new OrderFulfilled(1, 1, [], null))
            .When(new Settle())
            .Then(new OrderCompleted("Completed", 9_00, 0, -50, [new VendorPayable("topup", 9_50)]));

    [Test]
    public void nothing_delivered_fails_the_order_and_releases_the_whole_hold() =>
        Given([.. HeldGiftCard, Submitted(1, "giftcard"), new OrderFulfilled(1, 0, [], "rejected by vendor")])
            .When(new Settle())
            .Then(new OrderFailed("rejected by vendor", 48_00));

    [Test]
    public void an_order_settles_only_when_every_line_is_final() =>
        Given(Placed(GiftCard(1), Voucher(2)), new OrderFundsHeld(Id, 57_50, []), Submitted(1, "giftcard"), Submitted(2, LineSources.Stocked),
                new OrderFulfilled(1, 2, [Card, Card], null))
            .When(new Settle())
            .ThenFails(OrderErrors.LinesNotFinal);

    [Test]
    public void a_failed_order_retries_in_a_new_round_with_its_own_hold_and_request_ids()
    {
        Order? failed = null;
        Given([.. HeldGiftCard, Submitted(1, "giftcard"), new OrderFulfilled(1, 0, [], "rejected"), new OrderFailed("rejected", 48_00)])
            .AndState(s => failed = s)
            .When(new RetryOrder("vendor back"))
            .Then(new OrderRetried(1, "vendor back"))
            .AndState(again =>
            {
                again.Status.Should().Be(OrderStatus.Placed);
                again.Lines.Should().OnlyContain(l => l.RequestId == null && l.Result == null && l.Attempts == 0);
                Order.HoldTransferIdOf(again).Should().Be($"{Id}:retry-1").And.NotBe(Order.HoldTransferIdOf(failed!));
            })
            .When(new RecordFundsHeld([]))
            .AndState(held => held.Funds!.HoldTransferId.Should().Be($"{Id}:retry-1"))
            .When(new StartFulfilment())
            .Then(new OrderSubmittedToVendor(1, "giftcard", Order.RequestIdOf(Id, 1, 1)));
        Order.RequestIdOf(Id, 1, 1).Should().NotBe(Order.RequestIdOf(Id, 1));
    }

    [Test]
    public void a_placed_order_cannot_be_retried() =>
        Given(Placed(GiftCard(1))).When(new RetryOrder("x")).ThenFails(OrderErrors.InvalidTransition);

    [Test]
    public void a_completed_order_cannot_be_retried() =>
        Given(CompletedGiftCard).When(new RetryOrder("x")).ThenFails(OrderErrors.InvalidTransition);

    [Test]
    public void a_refund_never_exceeds_what_was_captured() =>
        Given(CompletedGiftCard).When(new RefundOrder("r1", 48_01, "x")).ThenFails(OrderErrors.RefundExceedsCaptured);

    [Test]
    public void refunds_are_idempotent_by_id_and_together_never_exceed_what_was_captured() =>
        Given(CompletedGiftCard)
            .When(new RefundOrder("r1", 20_00, "one card"))
            .Then(new OrderRefunded("r1", 20_00, "one card"))
            .AndState(s => s.Status.Should().Be(OrderStatus.PartiallyRefunded))
            .When(new RefundOrder("r1", 20_00, "one card")).ThenNothingNew()
            .When(new RefundOrder("r1", 10_00, "one card")).ThenFails(OrderErrors.IdempotencyConflict)
            .When(new RefundOrder("r2", 28_01, "rest")).ThenFails(OrderErrors.RefundExceedsCaptured)
            .When(new RefundOrder("r2", 28_00, "rest")).Then(new OrderRefunded("r2", 28_00, "rest"))
            .AndState(s => s.Status.Should().Be(OrderStatus.Refunded));
}
