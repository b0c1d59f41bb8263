using FluentAssertions;
using NUnit.Framework;
using Steller.Domain.Orders;

namespace Steller.Domain.Tests.Orders;

/// <summary>Given events, when a command, then events or an error: the order's state machine as specifications.</summary>
public sealed class OrderTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);
    private const string Id = "ord-aaaaaaaaaaaaaaaaaaaaaaaaaa";

    private static OrderLine GiftCard(int no, int quantity = 2) => new(no, "giftcard-amazon-de-25", quantity, 25_00, new LinePricing(24_00, 23_00, "gift_card", "giftcard", "amz-25", false));
    private static OrderLine Voucher(int no, int quantity = 1) => new(no, "stocked-cinema", quantity, 10_00, new LinePricing(9_50, 8_00, "voucher", LineSources.Stocked, null, false));
    private static OrderLine BelowCost(int no) => new(no, "topup-x", 1, 10_00, new LinePricing(9_00, 9_50, "top_up", "topup", "x", true));

    private static OrderPlaced Placed(params OrderLine[] lines) => new(Id, "p1", "ref-1", "hash-1", "EUR", lines, null, lines.Sum(l => l.Price), Now);
    private static readonly DeliveredCard Card = new("s1", new SealedValue("k", "blob", "ctx"), null, null);

    private static Order State(params IOrderEvent[] events) => events.Aggregate(Order.Empty, Order.Evolve);
    private static Decision<IOrderEvent> When(Order s, IOrderCommand c) => Order.Decide(c, s);
    private static PlaceOrder Place(string hash = "hash-1", OrderRejected? rejection = null, params OrderLine[] lines) =>
        new(Id, "p1", "ref-1", hash, "EUR", lines.Length > 0 ? lines : [GiftCard(1)], null, rejection, Now);

    [Test]
    public void placing_records_the_priced_lines_and_the_total()
    {
        var d = When(Order.Empty, Place(lines: [GiftCard(1), Voucher(2)]));
        d.Events.Should().ContainSingle().Which.Should().BeOfType<OrderPlaced>().Which.Total.Should().Be(2 * 24_00 + 9_50);
    }

    [Test]
    public void the_same_request_again_is_a_no_op_and_another_body_under_the_reference_is_a_conflict()
    {
        var s = State(Placed(GiftCard(1)));
        When(s, Place()).IsNoOp.Should().BeTrue();
        When(s, Place(hash: "other")).Error.Should().Be(OrderErrors.IdempotencyConflict);
    }

    [Test]
    public void a_pricing_rejection_is_recorded_with_the_placement_in_one_decision()
    {
        var d = When(Order.Empty, Place(rejection: new OrderRejected("unknown_sku", "no such sku")));
        d.Events.Should().HaveCount(2);
        d.Events[1].Should().Be(new OrderRejected("unknown_sku", "no such sku"));
        State([.. d.Events]).Status.Should().Be(OrderStatus.Rejected);
    }

    [Test]
    public void starting_fulfilment_records_one_deterministic_request_id_per_line_and_only_once()
    {
        var s = State(Placed(GiftCard(1), Voucher(2)), new OrderFundsHeld(Id, 57_50, [new LineReservation(2, "main", Order.RequestIdOf(Id, 2), 1)]));
        var d = When(s, new StartFulfilment());
        d.Events.Should().Equal(new OrderSubmittedToVendor(1, "giftcard", Order.RequestIdOf(Id, 1)), new OrderSubmittedToVendor(2, LineSources.Stocked, Order.RequestIdOf(Id, 2)));
        When(State([.. Replay(s), .. d.Events]), new StartFulfilment()).IsNoOp.Should().BeTrue();
    }

    [Test]
    public void request_ids_are_guids_fixed_by_order_and_line()
    {
        Guid.TryParse(Order.RequestIdOf(Id, 1), out _).Should().BeTrue("vendors take GUID request ids");
        Order.RequestIdOf(Id, 1).Should().Be(Order.RequestIdOf(Id, 1)).And.NotBe(Order.RequestIdOf(Id, 2));
        Order.RequestIdOf("ord-bbbbbbbbbbbbbbbbbbbbbbbbbb", 1).Should().NotBe(Order.RequestIdOf(Id, 1));
    }

    [Test]
    public void an_order_can_be_cancelled_until_fulfilment_starts_and_not_after()
    {
        var held = new IOrderEvent[] { Placed(GiftCard(1)), new OrderFundsHeld(Id, 48_00, []) };
        When(State(held), new CancelOrder("timeout")).Events.Should().Equal(new OrderCancelled("timeout"));
        When(State([.. held, new OrderSubmittedToVendor(1, "giftcard", Order.RequestIdOf(Id, 1))]), new CancelOrder("timeout")).Error.Should().Be(OrderErrors.AlreadyStarted);
        When(State([.. held, new OrderCancelled("timeout")]), new StartFulfilment()).Error.Should().Be(OrderErrors.InvalidTransition);
    }

    [Test]
    public void the_first_final_result_of_a_line_stands()
    {
        var s = State(Placed(GiftCard(1)), new OrderFundsHeld(Id, 48_00, []), new OrderSubmittedToVendor(1, "giftcard", Order.RequestIdOf(Id, 1)),
            new OrderFulfilled(1, 2, [Card, Card], null));
        When(s, new RecordLineFulfilled(1, 0, [], "late failure")).IsNoOp.Should().BeTrue();
    }

    [Test]
    public void a_partial_delivery_captures_only_what_was_delivered_with_vendor_and_revenue_legs()
    {
        var s = State(Placed(GiftCard(1, quantity: 4), Voucher(2)), new OrderFundsHeld(Id, 4 * 24_00 + 9_50, []),
            new OrderSubmittedToVendor(1, "giftcard", Order.RequestIdOf(Id, 1)), new OrderSubmittedToVendor(2, LineSources.Stocked, Order.RequestIdOf(Id, 2)),
            new OrderFulfilled(1, 3, [Card, Card, Card], "one card failed"), new OrderFulfilled(2, 1, [Card], null));
        var d = When(s, new Settle());
        d.Events.Should().BeEquivalentTo(new IOrderEvent[] { new OrderCompleted("PartiallyCompleted", 3 * 24_00 + 9_50, 24_00, 3 * 1_00 + 1_50,
            [new VendorPayable("giftcard", 3 * 23_00), new VendorPayable(LineSources.Stocked, 8_00)]) }, o => o.RespectingRuntimeTypes().WithStrictOrdering());
        var done = (OrderCompleted)d.Events[0];
        (done.Revenue + done.Payables.Sum(p => p.Amount)).Should().Be(done.Captured, "captured = revenue + vendor payables");
    }

    [Test]
    public void a_sale_below_cost_settles_with_negative_revenue()
    {
        var s = State(Placed(BelowCost(1)), new OrderFundsHeld(Id, 9_00, []), new OrderSubmittedToVendor(1, "topup", Order.RequestIdOf(Id, 1)), new OrderFulfilled(1, 1, [], null));
        When(s, new Settle()).Events.Should().BeEquivalentTo(new IOrderEvent[] { new OrderCompleted("Completed", 9_00, 0, -50, [new VendorPayable("topup", 9_50)]) },
            o => o.RespectingRuntimeTypes());
    }

    [Test]
    public void nothing_delivered_fails_the_order_and_releases_the_whole_hold()
    {
        var s = State(Placed(GiftCard(1)), new OrderFundsHeld(Id, 48_00, []), new OrderSubmittedToVendor(1, "giftcard", Order.RequestIdOf(Id, 1)), new OrderFulfilled(1, 0, [], "rejected by vendor"));
        When(s, new Settle()).Events.Should().Equal(new OrderFailed("rejected by vendor", 48_00));
    }

    [Test]
    public void an_order_settles_only_when_every_line_is_final()
    {
        var s = State(Placed(GiftCard(1), Voucher(2)), new OrderFundsHeld(Id, 57_50, []), new OrderSubmittedToVendor(1, "giftcard", Order.RequestIdOf(Id, 1)),
            new OrderSubmittedToVendor(2, LineSources.Stocked, Order.RequestIdOf(Id, 2)), new OrderFulfilled(1, 2, [Card, Card], null));
        When(s, new Settle()).Error.Should().Be(OrderErrors.LinesNotFinal);
    }

    [Test]
    public void a_failed_order_retries_in_a_new_round_with_its_own_hold_and_request_ids()
    {
        var failed = State(Placed(GiftCard(1)), new OrderFundsHeld(Id, 48_00, []), new OrderSubmittedToVendor(1, "giftcard", Order.RequestIdOf(Id, 1)),
            new OrderFulfilled(1, 0, [], "rejected"), new OrderFailed("rejected", 48_00));
        var retry = When(failed, new RetryOrder("vendor back"));
        retry.Events.Should().Equal(new OrderRetried(1, "vendor back"));

        var again = Order.Evolve(failed, retry.Events[0]);
        again.Status.Should().Be(OrderStatus.Placed);
        again.Lines.Should().OnlyContain(l => l.RequestId == null && l.Result == null && l.Attempts == 0);
        Order.HoldTransferIdOf(again).Should().Be($"{Id}:retry-1").And.NotBe(Order.HoldTransferIdOf(failed));
        var held = Order.Evolve(again, When(again, new RecordFundsHeld([])).Events.Cast<OrderFundsHeld>().Single());
        held.Funds!.HoldTransferId.Should().Be($"{Id}:retry-1");
        When(held, new StartFulfilment()).Events.Should().Equal(new OrderSubmittedToVendor(1, "giftcard", Order.RequestIdOf(Id, 1, 1)));
        Order.RequestIdOf(Id, 1, 1).Should().NotBe(Order.RequestIdOf(Id, 1));
    }

    [Test]
    public void only_a_failed_order_can_be_retried()
    {
        When(State(Placed(GiftCard(1))), new RetryOrder("x")).Error.Should().Be(OrderErrors.InvalidTransition);
        var completed = State(Placed(GiftCard(1)), new OrderFundsHeld(Id, 48_00, []), new OrderSubmittedToVendor(1, "giftcard", Order.RequestIdOf(Id, 1)),
            new OrderFulfilled(1, 2, [Card, Card], null), new OrderCompleted("Completed", 48_00, 0, 2_00, [new VendorPayable("giftcard", 46_00)]));
        When(completed, new RetryOrder("x")).Error.Should().Be(OrderErrors.InvalidTransition);
    }

    [Test]
    public void refunds_are_idempotent_by_id_and_never_exceed_what_was_captured()
    {
        var s = State(Placed(GiftCard(1)), new OrderFundsHeld(Id, 48_00, []), new OrderSubmittedToVendor(1, "giftcard", Order.RequestIdOf(Id, 1)),
            new OrderFulfilled(1, 2, [Card, Card], null), new OrderCompleted("Completed", 48_00, 0, 2_00, [new VendorPayable("giftcard", 46_00)]));
        When(s, new RefundOrder("r1", 48_01, "x")).Error.Should().Be(OrderErrors.RefundExceedsCaptured);
        var partial = State([.. Replay(s), new OrderRefunded("r1", 20_00, "one card")]);
        partial.Status.Should().Be(OrderStatus.PartiallyRefunded);
        When(partial, new RefundOrder("r1", 20_00, "one card")).IsNoOp.Should().BeTrue();
        When(partial, new RefundOrder("r1", 10_00, "one card")).Error.Should().Be(OrderErrors.IdempotencyConflict);
        When(partial, new RefundOrder("r2", 28_01, "rest")).Error.Should().Be(OrderErrors.RefundExceedsCaptured);
        State([.. Replay(partial), new OrderRefunded("r2", 28_00, "rest")]).Status.Should().Be(OrderStatus.Refunded);
    }

    /// <summary>The events that produced a state, rebuilt from what the state remembers (tests only need the settled ones).</summary>
    private static IEnumerable<IOrderEvent> Replay(Order s)
    {
        yield return s.Placed!;
        if (s.Funds is not null) yield return s.Funds;
        foreach (var l in s.Lines.Where(l => l.RequestId is not null)) yield return new OrderSubmittedToVendor(l.Line.LineNo, l.Line.Pricing!.Source, l.RequestId!);
        foreach (var l in s.Lines.Where(l => l.Result is not null)) yield return l.Result!;
        if (s.Completion is not null) yield return s.Completion;
        foreach (var r in s.Refunds.Values) yield return r;
    }
}
