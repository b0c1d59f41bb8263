using Steller.Domain.Orders;

namespace Steller.Application.Orders.ViewingOrder;

public sealed record OrderLineView(int LineNo, string Sku, int Quantity, long FaceValue, long? UnitPrice, string? ProductType,
    int? Delivered, string? FailureReason, IReadOnlyList<CardView>? Cards);

/// <summary>A delivered unit. Code and PIN are present only in the owning partner's order detail; everywhere else, null.</summary>
public sealed record CardView(string? SerialNumber, string? Code, string? Pin, DateOnly? ExpiresOn);

/// <summary>The order now. <paramref name="Open"/> opens sealed codes: given only for the owning partner's detail.</summary>
public sealed record OrderView(string OrderId, string PartnerId, string ClientReference, string Status, string? Currency, long Total,
    long Captured,
    long Refunded, IReadOnlyList<OrderLineView> Lines, DateTimeOffset PlacedAt, string? RejectionCode, string? FailureReason,
    string? CancelReason, long Revision)
{
    public static OrderView Of(Order o, long revision) => Of(o, revision, null);

    public static OrderView Of(Order o, long revision, Func<SealedValue, string>? open)
    {
        var placed = o.Placed!;
        return new(placed.OrderId, placed.PartnerId, placed.ClientReference, o.Status.ToString(), placed.Currency, placed.Total,
            o.Completion?.Captured ?? 0, o.Refunded, o.Lines.Select(l => LineOf(l, open)).ToList(),
            placed.PlacedAt, o.Rejection?.Code, o.Failure?.Reason, o.CancelReason, revision);
    }

    private static OrderLineView LineOf(LineState l, Func<SealedValue, string>? open) =>
        new(l.Line.LineNo, l.Line.Sku, l.Line.Quantity, l.Line.FaceValue, l.Line.Pricing?.UnitPrice, l.Line.Pricing?.ProductType,
            l.Result?.Delivered, l.Result?.FailureReason,
            l.Result?.Cards.Select(c
                => new CardView(c.SerialNumber, open?.Invoke(c.Code), c.Pin is null ? null : open?.Invoke(c.Pin), c.ExpiresOn)).ToList());
}
