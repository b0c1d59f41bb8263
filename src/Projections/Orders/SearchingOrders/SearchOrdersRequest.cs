using MediatR;
using Steller.Application.Time;
using Steller.Domain.Orders;
using Steller.Infrastructure.Configuration;

namespace Steller.Projections.Orders.SearchingOrders;

/// <summary>
/// Operators' order search across partners (GET /admin/orders), from read.orders, newest first, in the one pagination
/// shape. <paramref name="Stuck"/>: only orders not final whose last change is older than Orders:StuckAfterMinutes.
/// </summary>
public sealed record SearchOrdersRequest(string? PartnerId, OrderStatus? Status, string? Sku, DateTimeOffset? From, DateTimeOffset? To,
    bool Stuck, int Limit, string? After) : IRequest<OrderPage>;

public sealed class SearchOrdersHandler(OrdersQuery query, OrderSettings settings, IClock clock) : IRequestHandler<SearchOrdersRequest, OrderPage>
{
    public Task<OrderPage> Handle(SearchOrdersRequest r, CancellationToken ct) =>
        query.Search(new OrderFilter(r.PartnerId, r.Status, r.Sku, r.From, r.To,
            r.Stuck ? clock.UtcNow - TimeSpan.FromMinutes(settings.StuckAfterMinutes) : null), r.Limit, r.After, ct);
}
