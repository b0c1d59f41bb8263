using MediatR;
using Steller.Application.Commands;
using Steller.Application.Orders.Fulfilling;
using Steller.Domain.Orders;

namespace Steller.Application.Orders.ViewingOrder;

/// <summary>
/// One order, live from its stream. <paramref name="PartnerId"/> set: the calling partner's view, with delivered codes and
/// PINs opened (the only place they are ever shown); another partner's order is indistinguishable from none at all.
/// Null: an admin's view of any order, cards without codes or PINs.
/// </summary>
public sealed record GetOrderRequest(string OrderId, string? PartnerId = null) : IRequest<OrderView?>;

/// <summary>Answers null for an order that does not exist (or is not the calling partner's).</summary>
public sealed class GetOrderHandler(AggregateCommands<Order, IOrderCommand, IOrderEvent> orders, OrderFulfilment fulfilment)
    : IRequestHandler<GetOrderRequest, OrderView?>
{
    public async Task<OrderView?> Handle(GetOrderRequest request, CancellationToken ct)
    {
        if (!Order.IsValidId(request.OrderId)) return null;
        var (order, revision) = await orders.Load(Order.StreamName(request.OrderId), ct);
        if (order.Placed is null) return null;
        if (request.PartnerId is null) return OrderView.Of(order, revision);
        return order.Placed.PartnerId == request.PartnerId ? OrderView.Of(order, revision, fulfilment.Open) : null;
    }
}
