using MediatR;
using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Application.Orders.Fulfilling;
using Steller.Application.Orders.PlacingOrder;
using Steller.Domain;
using Steller.Domain.Orders;

namespace Steller.Application.Orders.Retrying;

/// <summary>An admin retries an order. <paramref name="IfMatch"/>: the revision the admin last saw.</summary>
public sealed record RetryOrderRequest(string OrderId, string? Reason, EventMetadata Metadata, long? IfMatch = null)
    : IRequest<CommandOutcome<Order>>
{
    public const string DefaultReason = "retried by an admin";
}

/// <summary>
/// Retries an order, by what it is now:
/// <list type="bullet">
/// <item>failed: the order records a new round (its failed round's hold was released when it failed), then placement
/// runs again for that round: hold, reserve, record "funds held"; fulfilment follows as for any order. A refusal such
/// as insufficient_funds rejects the round.</item>
/// <item>in fulfilment (funds held, submitted): advanced now instead of waiting for the poller.</item>
/// <item>anything else: refused with invalid_transition (a repeat while a new round is under way finds it no longer failed).</item>
/// </list>
/// </summary>
public sealed class RetryOrderHandler(AggregateCommands<Order, IOrderCommand, IOrderEvent> orders, PlaceOrderHandler placement,
    OrderFulfilment fulfilment)
    : IRequestHandler<RetryOrderRequest, CommandOutcome<Order>>
{
    public async Task<CommandOutcome<Order>> Handle(RetryOrderRequest request, CancellationToken ct)
    {
        if (!Order.IsValidId(request.OrderId)) return OrderNotFound.Outcome(request.OrderId);
        var stream = Order.StreamName(request.OrderId);
        var (order, revision) = await orders.Load(stream, ct);
        if (order.Placed is null) return OrderNotFound.Outcome(request.OrderId);
        if (request.IfMatch is { } expected && expected != revision)
            return Refused(order, revision, CommandErrors.PreconditionFailed(expected, revision));
        return order.Status switch
        {
            OrderStatus.Failed => await NewRound(request, ct),
            OrderStatus.FundsHeld or OrderStatus.Submitted => await AdvanceNow(request, ct),
            _ => Refused(order, revision, new DomainError(OrderErrors.InvalidTransition.Code,
                $"Only a failed order, or one in fulfilment, can be retried; this one is {order.Status}.")),
        };
    }

    private async Task<CommandOutcome<Order>> NewRound(RetryOrderRequest request, CancellationToken ct)
    {
        var command = new RetryOrder(request.Reason ?? RetryOrderRequest.DefaultReason);
        var retried = await orders.Execute(Order.StreamName(request.OrderId), command, request.Metadata, request.IfMatch, ct: ct);
        if (retried.Error is not null) return retried;
        var resumed = await placement.Resume(request.OrderId, request.Metadata, ct);
        return retried with { State = resumed.Order!, Revision = resumed.Revision };
    }

    private async Task<CommandOutcome<Order>> AdvanceNow(RetryOrderRequest request, CancellationToken ct)
    {
        await fulfilment.Advance(request.OrderId, request.Metadata.CorrelationId, ct);
        var (now, revision) = await orders.Load(Order.StreamName(request.OrderId), ct);
        return new CommandOutcome<Order>(now, revision, [], null, LogPosition.Start);
    }

    private static CommandOutcome<Order> Refused(Order order, long revision, DomainError error)
        => new(order, revision, [], error, LogPosition.Start);
}
