using FluentAssertions;
using NUnit.Framework;
using Steller.Application.Commands;
using Steller.Application.Orders.Cancelling;
using Steller.Application.Orders.PlacingOrder;
using Steller.Application.Orders.Refunding;
using Steller.Application.Orders.Retrying;
using Steller.Application.Orders.ViewingOrder;
using Steller.Application.Pipeline;
using Steller.Application.Tests.Support;
using Steller.Domain.Inventory;
using Steller.Domain.Orders;
using Steller.Domain.Wallets;
using static Steller.Application.Tests.Support.OrderWorldLines;

namespace Steller.Application.Tests.Orders;

/// <summary>
/// The order workflow's rules, specified through its use cases (MediatR requests) and <c>OrderFulfilment</c>, without
/// HTTP or a database: an in-memory event store, a fixed catalog, one stock location and a fake gift-card vendor.
/// </summary>
public sealed class OrderWorkflowTests
{
    private OrderWorld world = null!;

    [SetUp] public void NewWorld() => world = new OrderWorld();
    [TearDown] public void EndWorld() => world.Dispose();

    // ---- placing ----

    [Test]
    public async Task placing_an_order_holds_its_total_on_the_partners_wallet()
    {
        var partner = await world.Partner("p1", 100_00);

        var placed = await world.Place(partner, "po-1", Line(OrderWorld.GiftCard, 2, 25_00));

        placed.Error.Should().BeNull();
        placed.Order!.Status.Should().Be(OrderStatus.FundsHeld);
        placed.Order.Placed!.Total.Should().Be(50_00);
        var wallet = await world.WalletOf(partner);
        wallet.Holds[placed.OrderId].Amount.Should().Be(50_00, "the hold's transfer id is the order id");
        (wallet.Posted, wallet.Pending).Should().Be((100_00, 50_00));
    }

    [Test]
    public async Task an_order_the_wallet_cannot_cover_is_rejected_for_insufficient_funds_and_holds_nothing()
    {
        var partner = await world.Partner("p1", 10_00);

        var placed = await world.Place(partner, "po-1", Line(OrderWorld.GiftCard, 1, 25_00));

        placed.Order!.Status.Should().Be(OrderStatus.Rejected);
        placed.Order.Rejection!.Code.Should().Be(WalletErrors.InsufficientFunds.Code);
        placed.Error!.Code.Should().Be("insufficient_funds", "the use case's outcome names the rejection");
        var wallet = await world.WalletOf(partner);
        wallet.Holds.Should().BeEmpty();
        (wallet.Posted, wallet.Pending).Should().Be((10_00, 0L));
    }

    [Test]
    public async Task an_unknown_sku_rejects_the_order_before_anything_is_held()
    {
        var partner = await world.Partner("p1", 100_00);

        var placed = await world.Place(partner, "po-1", Line("no-such-sku", 1, 25_00));

        placed.Order!.Status.Should().Be(OrderStatus.Rejected);
        placed.Order.Rejection!.Code.Should().Be("unknown_sku");
        (await world.WalletOf(partner)).Holds.Should().BeEmpty();
    }

    [Test]
    public async Task a_duplicate_client_reference_with_the_same_body_answers_the_same_order_and_writes_nothing_more()
    {
        var partner = await world.Partner("p1", 100_00);
        var first = await world.Place(partner, "po-1", Line(OrderWorld.GiftCard, 1, 25_00));
        var events = world.Store.All.Count;

        var again = await world.Place(partner, "po-1", Line(OrderWorld.GiftCard, 1, 25_00));

        again.OrderId.Should().Be(first.OrderId);
        again.Refusal.Should().BeNull();
        again.Order.Should().BeEquivalentTo(first.Order);
        world.Store.All.Should().HaveCount(events, "a repeat appends nothing");
        (await world.WalletOf(partner)).Pending.Should().Be(25_00, "held once");
    }

    [Test]
    public async Task the_same_client_reference_with_another_body_is_an_idempotency_conflict()
    {
        var partner = await world.Partner("p1", 100_00);
        var first = await world.Place(partner, "po-1", Line(OrderWorld.GiftCard, 1, 25_00));

        var other = await world.Place(partner, "po-1", Line(OrderWorld.GiftCard, 2, 25_00));

        other.OrderId.Should().Be(first.OrderId);
        other.Refusal.Should().Be(OrderErrors.IdempotencyConflict);
        (await world.WalletOf(partner)).Pending.Should().Be(25_00, "the first body's hold only");
    }

    [Test]
    public async Task a_stocked_line_reserves_stock_at_its_location()
    {
        await world.Stocked(5);
        var partner = await world.Partner("p1", 100_00);

        var placed = await world.Place(partner, "po-1", Line(OrderWorld.Voucher, 2, 10_00));

        placed.Order!.Status.Should().Be(OrderStatus.FundsHeld);
        var reservation = placed.Order.Funds!.Reservations.Should().ContainSingle().Subject;
        (reservation.Location, reservation.Quantity).Should().Be((OrderWorld.Location, 2));
        var stock = await world.VoucherStock();
        (stock.OnHand, stock.Reserved).Should().Be((5, 2));
    }

    [Test]
    public async Task a_stocked_line_without_enough_stock_rejects_the_order_and_releases_the_hold()
    {
        await world.Stocked(1);
        var partner = await world.Partner("p1", 100_00);

        var placed = await world.Place(partner, "po-1", Line(OrderWorld.Voucher, 2, 10_00));

        placed.Order!.Status.Should().Be(OrderStatus.Rejected);
        placed.Order.Rejection!.Code.Should().Be(StockErrors.Exhausted.Code);
        (await world.WalletOf(partner)).Pending.Should().Be(0);
        (await world.VoucherStock()).Reserved.Should().Be(0);
    }

    [Test]
    public async Task a_request_with_a_missing_field_is_refused_as_required_and_never_reaches_the_handler()
    {
        var act = () => world.Mediator.Send(new PlaceOrderRequest("p1", "po-1", [new(OrderWorld.GiftCard, 1, null), null], null, OrderWorld.Metadata()));

        var errors = (await act.Should().ThrowAsync<ValidationFailedException>()).Which.Errors.ByField;
        errors["lines[0].faceValue"].Should().Equal("required");
        errors["lines[1]"].Should().Equal("a line object");
        world.Store.All.Should().BeEmpty();
    }

    // ---- fulfilling ----

    [Test]
    public async Task fulfilling_a_delivered_line_captures_the_total_and_completes_the_order()
    {
        var partner = await world.Partner("p1", 100_00);
        var placed = await world.Place(partner, "po-1", Line(OrderWorld.GiftCard, 2, 25_00));

        var order = await world.Fulfilment.Advance(placed.OrderId, "corr");

        order.Status.Should().Be(OrderStatus.Completed);
        order.Completion!.Captured.Should().Be(50_00);
        order.Lines.Single().Result!.Cards.Should().HaveCount(2);
        world.Vendor.Submitted.Should().ContainSingle();
        var wallet = await world.WalletOf(partner);
        (wallet.Posted, wallet.Pending).Should().Be((50_00, 0L));
        wallet.Holds[placed.OrderId].Status.Should().Be(HoldStatus.Captured);
    }

    [Test]
    public async Task fulfilling_again_changes_nothing_and_never_submits_twice()
    {
        var partner = await world.Partner("p1", 100_00);
        var placed = await world.Place(partner, "po-1", Line(OrderWorld.GiftCard, 1, 25_00));
        await world.Fulfilment.Advance(placed.OrderId, "corr");
        var events = world.Store.All.Count;

        var again = await world.Fulfilment.Advance(placed.OrderId, "corr");

        again.Status.Should().Be(OrderStatus.Completed);
        world.Store.All.Should().HaveCount(events);
        world.Vendor.Submitted.Should().ContainSingle();
        (await world.WalletOf(partner)).Posted.Should().Be(75_00, "charged once");
    }

    [Test]
    public async Task fulfilling_a_stocked_line_commits_its_reservation()
    {
        await world.Stocked(5);
        var partner = await world.Partner("p1", 100_00);
        var placed = await world.Place(partner, "po-1", Line(OrderWorld.Voucher, 2, 10_00));

        var order = await world.Fulfilment.Advance(placed.OrderId, "corr");

        order.Status.Should().Be(OrderStatus.Completed);
        var stock = await world.VoucherStock();
        (stock.OnHand, stock.Reserved).Should().Be((3, 0));
        (await world.WalletOf(partner)).Posted.Should().Be(80_00);
    }

    [Test]
    public async Task a_vendor_reject_fails_the_order_and_releases_the_hold()
    {
        var partner = await world.Partner("p1", 100_00);
        world.Vendor.RejectWith("Brand out of stock");
        var placed = await world.Place(partner, "po-1", Line(OrderWorld.GiftCard, 1, 25_00));

        var order = await world.Fulfilment.Advance(placed.OrderId, "corr");

        order.Status.Should().Be(OrderStatus.Failed);
        order.Failure!.Reason.Should().Contain("out of stock");
        var wallet = await world.WalletOf(partner);
        (wallet.Posted, wallet.Pending).Should().Be((100_00, 0L), "nothing captured");
        wallet.Holds[placed.OrderId].Status.Should().Be(HoldStatus.Released);
    }

    // ---- cancelling ----

    [Test]
    public async Task cancelling_before_fulfilment_releases_the_hold_and_the_reservation()
    {
        await world.Stocked(5);
        var partner = await world.Partner("p1", 100_00);
        var placed = await world.Place(partner, "po-1", Line(OrderWorld.Voucher, 2, 10_00));

        var cancelled = await world.Mediator.Send(new CancelOrderRequest(placed.OrderId, "changed plans", OrderWorld.Metadata("admin")));

        cancelled.Error.Should().BeNull();
        cancelled.State.Status.Should().Be(OrderStatus.Cancelled);
        (await world.WalletOf(partner)).Pending.Should().Be(0);
        (await world.VoucherStock()).Reserved.Should().Be(0);
        (await world.Mediator.Send(new CancelOrderRequest(placed.OrderId, "changed plans", OrderWorld.Metadata("admin")))).WasRepeat
            .Should().BeTrue("cancelling is idempotent");
    }

    [Test]
    public async Task an_order_in_fulfilment_can_no_longer_be_cancelled()
    {
        var partner = await world.Partner("p1", 100_00);
        var placed = await world.Place(partner, "po-1", Line(OrderWorld.GiftCard, 1, 25_00));
        await world.Fulfilment.Advance(placed.OrderId, "corr");

        var cancelled = await world.Mediator.Send(new CancelOrderRequest(placed.OrderId, "too late", OrderWorld.Metadata("admin")));

        cancelled.Error!.Code.Should().Be("invalid_transition", "a completed order is past cancelling");
        (await world.WalletOf(partner)).Posted.Should().Be(75_00);
    }

    [Test]
    public async Task cancelling_an_order_that_does_not_exist_is_order_not_found()
    {
        var outcome = await world.Mediator.Send(new CancelOrderRequest(Order.IdFor("p1", "nothing"), "why", OrderWorld.Metadata("admin")));
        outcome.Error!.Code.Should().Be(OrderErrors.NotFound.Code);
        world.Store.All.Should().BeEmpty();
    }

    [Test]
    public async Task a_stale_if_match_refuses_the_command_with_precondition_failed_and_appends_nothing()
    {
        var partner = await world.Partner("p1", 100_00);
        var placed = await world.Place(partner, "po-1", Line(OrderWorld.GiftCard, 1, 25_00));
        var (_, revision) = await world.OrderOf(placed.OrderId);
        var events = world.EventsIn(placed.OrderId);

        var stale = await world.Mediator.Send(new CancelOrderRequest(placed.OrderId, "changed plans", OrderWorld.Metadata("admin"), IfMatch: revision - 1));

        stale.Error!.Code.Should().Be(CommandErrors.PreconditionFailedCode);
        stale.Revision.Should().Be(revision, "the refusal carries the current revision");
        world.EventsIn(placed.OrderId).Should().Be(events);
        (await world.WalletOf(partner)).Pending.Should().Be(25_00, "nothing released");

        var current = await world.Mediator.Send(new CancelOrderRequest(placed.OrderId, "changed plans", OrderWorld.Metadata("admin"), IfMatch: revision));
        current.State.Status.Should().Be(OrderStatus.Cancelled);
    }

    // ---- refunding ----

    [Test]
    public async Task refunds_never_exceed_what_was_captured_and_each_is_credited_once()
    {
        var partner = await world.Partner("p1", 100_00);
        var placed = await world.Place(partner, "po-1", Line(OrderWorld.GiftCard, 2, 25_00));
        await world.Fulfilment.Advance(placed.OrderId, "corr");
        Task<CommandOutcome<Order>> Refund(string id, long amount) =>
            world.Mediator.Send(new RefundOrderRequest(placed.OrderId, id, amount, "unused", OrderWorld.Metadata("admin")));

        (await Refund("rf-1", 25_00)).State.Status.Should().Be(OrderStatus.PartiallyRefunded);
        (await Refund("rf-1", 25_00)).WasRepeat.Should().BeTrue("the same refund again is a no-op");
        (await Refund("rf-2", 25_01)).Error.Should().Be(OrderErrors.RefundExceedsCaptured);
        (await Refund("rf-3", 25_00)).State.Status.Should().Be(OrderStatus.Refunded);
        (await Refund("rf-4", 1)).Error.Should().Be(OrderErrors.RefundExceedsCaptured, "nothing is left to refund");

        (await world.WalletOf(partner)).Posted.Should().Be(100_00, "both halves came back, once each");
    }

    [Test]
    public async Task an_order_that_was_not_completed_cannot_be_refunded()
    {
        var partner = await world.Partner("p1", 100_00);
        var placed = await world.Place(partner, "po-1", Line(OrderWorld.GiftCard, 1, 25_00));

        var refund = await world.Mediator.Send(new RefundOrderRequest(placed.OrderId, "rf-1", 25_00, "early", OrderWorld.Metadata("admin")));

        refund.Error!.Code.Should().Be("invalid_transition");
        (await world.WalletOf(partner)).Posted.Should().Be(100_00);
    }

    // ---- retrying ----

    [Test]
    public async Task retrying_a_failed_order_holds_the_funds_again_and_the_new_round_is_charged_once()
    {
        var partner = await world.Partner("p1", 100_00);
        world.Vendor.RejectWith("Temporarily out of codes");
        var placed = await world.Place(partner, "po-1", Line(OrderWorld.GiftCard, 1, 25_00));
        await world.Fulfilment.Advance(placed.OrderId, "corr");
        world.Vendor.Deliver();

        var retried = await world.Mediator.Send(new RetryOrderRequest(placed.OrderId, "vendor restocked", OrderWorld.Metadata("admin")));

        retried.Error.Should().BeNull();
        retried.State.Status.Should().Be(OrderStatus.FundsHeld);
        retried.State.Round.Should().Be(1);
        (await world.WalletOf(partner)).Holds[$"{placed.OrderId}:retry-1"].Amount.Should().Be(25_00, "the new round holds under its own id");
        (await world.Fulfilment.Advance(placed.OrderId, "corr")).Status.Should().Be(OrderStatus.Completed);
        var wallet = await world.WalletOf(partner);
        (wallet.Posted, wallet.Pending).Should().Be((75_00, 0L));
        world.Vendor.Submitted.Select(p => p.RequestId).Should().OnlyHaveUniqueItems("each round asks the vendor with fresh request ids");
    }

    [Test]
    public async Task retrying_an_order_in_fulfilment_advances_it_now()
    {
        var partner = await world.Partner("p1", 100_00);
        var placed = await world.Place(partner, "po-1", Line(OrderWorld.GiftCard, 1, 25_00));

        var retried = await world.Mediator.Send(new RetryOrderRequest(placed.OrderId, null, OrderWorld.Metadata("admin")));

        retried.Error.Should().BeNull();
        retried.State.Status.Should().Be(OrderStatus.Completed);
        retried.Revision.Should().Be((await world.OrderOf(placed.OrderId)).Revision);
    }

    [Test]
    public async Task retrying_a_completed_order_is_an_invalid_transition_and_an_unknown_one_is_not_found()
    {
        var partner = await world.Partner("p1", 100_00);
        var placed = await world.Place(partner, "po-1", Line(OrderWorld.GiftCard, 1, 25_00));
        await world.Fulfilment.Advance(placed.OrderId, "corr");
        var events = world.Store.All.Count;

        var completed = await world.Mediator.Send(new RetryOrderRequest(placed.OrderId, "again", OrderWorld.Metadata("admin")));
        var unknown = await world.Mediator.Send(new RetryOrderRequest(Order.IdFor("p1", "nothing"), "again", OrderWorld.Metadata("admin")));

        completed.Error!.Code.Should().Be("invalid_transition");
        completed.Error.Message.Should().Contain("Completed");
        unknown.Error!.Code.Should().Be(OrderErrors.NotFound.Code);
        world.Store.All.Should().HaveCount(events);
    }

    [Test]
    public async Task a_stale_if_match_on_a_retry_changes_nothing()
    {
        var partner = await world.Partner("p1", 100_00);
        var placed = await world.Place(partner, "po-1", Line(OrderWorld.GiftCard, 1, 25_00));
        var (_, revision) = await world.OrderOf(placed.OrderId);

        var stale = await world.Mediator.Send(new RetryOrderRequest(placed.OrderId, null, OrderWorld.Metadata("admin"), IfMatch: revision + 1));

        stale.Error!.Code.Should().Be(CommandErrors.PreconditionFailedCode);
        (await world.OrderOf(placed.OrderId)).Order.Status.Should().Be(OrderStatus.FundsHeld, "not advanced");
        world.Vendor.Submitted.Should().BeEmpty();
    }

    // ---- viewing ----

    [Test]
    public async Task the_owning_partner_sees_delivered_codes_an_admin_does_not_and_another_partner_sees_no_order()
    {
        var partner = await world.Partner("p1", 100_00);
        var placed = await world.Place(partner, "po-1", Line(OrderWorld.GiftCard, 1, 25_00));
        await world.Fulfilment.Advance(placed.OrderId, "corr");

        var owner = await world.Mediator.Send(new GetOrderRequest(placed.OrderId, partner));
        var admin = await world.Mediator.Send(new GetOrderRequest(placed.OrderId));
        var other = await world.Mediator.Send(new GetOrderRequest(placed.OrderId, "p2"));

        owner!.Lines.Single().Cards!.Single().Code.Should().StartWith("CODE-");
        owner.Lines.Single().Cards!.Single().Pin.Should().Be("PIN-1");
        admin!.Lines.Single().Cards!.Single().Code.Should().BeNull();
        admin.Revision.Should().Be(owner.Revision);
        other.Should().BeNull("another partner's order is indistinguishable from none");
        (await world.Mediator.Send(new GetOrderRequest("not an id"))).Should().BeNull();
    }
}
