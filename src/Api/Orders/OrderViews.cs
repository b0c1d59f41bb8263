using Steller.Application.Orders.Fulfilling;
using Steller.Domain.Orders;

namespace Steller.Api.Orders;

public sealed record OrderLineView(int LineNo, string Sku, int Quantity, long FaceValue, long? UnitPrice, string? ProductType,
    int? Delivered, string? FailureReason, IReadOnlyList<CardView>? Cards);

/// <summary>A delivered unit. Code and PIN are present only in the owning partner's order detail; everywhere else, null.</summary>
public sealed record CardView(string? SerialNumber, string? Code, string? Pin, DateOnly? ExpiresOn);

/// <summary>
/// The answer to POST /v1/orders: the order as placement left it (FundsHeld, i.e. accepted, or Rejected). It is built
/// from the placement events only, so every duplicate of a request gets the same body, however far fulfilment got since.
/// </summary>
public sealed record PlacementView(string OrderId, string ClientReference, string Status, string? Currency, long Total,
    IReadOnlyList<OrderLineView> Lines, DateTimeOffset PlacedAt, string? RejectionCode, string? RejectionMessage)
{
    public static PlacementView Of(Order o)
    {
        var placed = o.Placed!;
        var status = o.Rejection is not null ? OrderStatus.Rejected : o.Status == OrderStatus.Cancelled && o.Funds is null ? OrderStatus.Cancelled : OrderStatus.FundsHeld;
        return new(placed.OrderId, placed.ClientReference, status.ToString(), placed.Currency, placed.Total,
            placed.Lines.Select(l => new OrderLineView(l.LineNo, l.Sku, l.Quantity, l.FaceValue, l.Pricing?.UnitPrice, l.Pricing?.ProductType, null, null, null)).ToList(),
            placed.PlacedAt, o.Rejection?.Code, o.Rejection?.Message);
    }
}

/// <summary>The order now. <paramref name="Open"/> opens sealed codes: given only for the owning partner's detail.</summary>
public sealed record OrderView(string OrderId, string PartnerId, string ClientReference, string Status, string? Currency, long Total, long Captured,
    long Refunded, IReadOnlyList<OrderLineView> Lines, DateTimeOffset PlacedAt, string? RejectionCode, string? FailureReason, string? CancelReason, long Revision)
{
    public static OrderView Of(Order o, long revision, Func<SealedValue, string>? open = null)
    {
        var placed = o.Placed!;
        return new(placed.OrderId, placed.PartnerId, placed.ClientReference, o.Status.ToString(), placed.Currency, placed.Total,
            o.Completion?.Captured ?? 0, o.Refunded,
            o.Lines.Select(l => new OrderLineView(l.Line.LineNo, l.Line.Sku, l.Line.Quantity, l.Line.FaceValue, l.Line.Pricing?.UnitPrice, l.Line.Pricing?.ProductType,
                l.Result?.Delivered, l.Result?.FailureReason,
                l.Result?.Cards.Select(c => new CardView(c.SerialNumber, open?.Invoke(c.Code), c.Pin is null ? null : open?.Invoke(c.Pin), c.ExpiresOn)).ToList())).ToList(),
            placed.PlacedAt, o.Rejection?.Code, o.Failure?.Reason, o.CancelReason, revision);
    }
}
