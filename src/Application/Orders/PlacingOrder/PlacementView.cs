using Steller.Application.Orders.ViewingOrder;
using Steller.Domain.Orders;

namespace Steller.Application.Orders.PlacingOrder;

/// <summary>
/// The answer to a placement: the order as placement left it (FundsHeld, i.e. accepted, or Rejected). It is built
/// from the placement events only, so every duplicate of a request gets the same body, however far fulfilment got since.
/// </summary>
public sealed record PlacementView(string OrderId, string ClientReference, string Status, string? Currency, long Total,
    IReadOnlyList<OrderLineView> Lines, DateTimeOffset PlacedAt, string? RejectionCode, string? RejectionMessage)
{
    public static PlacementView Of(Order o)
    {
        var placed = o.Placed!;
        var status = o.Rejection is not null ? OrderStatus.Rejected
            : o.Status == OrderStatus.Cancelled && o.Funds is null ? OrderStatus.Cancelled
            : OrderStatus.FundsHeld;
        return new(placed.OrderId, placed.ClientReference, status.ToString(), placed.Currency, placed.Total,
            placed.Lines.Select(l => new OrderLineView(l.LineNo, l.Sku, l.Quantity, l.FaceValue, l.Pricing?.UnitPrice,
                l.Pricing?.ProductType, null, null, null)).ToList(),
            placed.PlacedAt, o.Rejection?.Code, o.Rejection?.Message);
    }
}
