using MediatR;
using Steller.Domain.Orders;

namespace Steller.Projections.Orders.ListingOrders;

/// <summary>
/// A page of the calling partner's orders from read.orders (eventually consistent), newest first. The edge has parsed
/// the query string: <paramref name="From"/> inclusive, <paramref name="To"/> exclusive, <paramref name="After"/> a cursor
/// <see cref="OrderCursor.TryDecode"/> accepts (the <see cref="OrderPage.Next"/> of the previous page), or null.
/// </summary>
public sealed record ListOrdersRequest(string PartnerId, OrderStatus? Status, DateTimeOffset? From, DateTimeOffset? To, int Limit,
    string? After) : IRequest<OrderPage>;

public sealed class ListOrdersHandler(OrdersQuery query) : IRequestHandler<ListOrdersRequest, OrderPage>
{
    public Task<OrderPage> Handle(ListOrdersRequest request, CancellationToken ct) =>
        query.Page(request.PartnerId, request.Status, request.From, request.To, request.Limit, request.After, ct);
}
