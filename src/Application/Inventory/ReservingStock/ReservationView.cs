using Steller.Application.Inventory.ViewingStock;
using Steller.Domain.Inventory;

namespace Steller.Application.Inventory.ReservingStock;

/// <summary>A reservation; once committed on coded stock, the ids (never the codes) of the vouchers assigned to its order.</summary>
public sealed record ReservationView(
    string ReservationId, long Quantity, string OrderId, DateTimeOffset ExpiresAt, string Status, IReadOnlyList<string>? VoucherIds,
    StockView Stock)
{
    public static ReservationView Of(string sku, string location, Reservation r, Stock s, long revision) =>
        new(r.ReservationId, r.Quantity, r.OrderId, r.ExpiresAt, r.Status.ToString().ToLowerInvariant(),
            r.Vouchers?.Select(v => v.VoucherId).ToList(), StockView.Of(sku, location, s, revision));

    /// <summary>The view of reservation <paramref name="reservationId"/> in the stock item's state.</summary>
    public static Func<Stock, long, ReservationView> Of(string sku, string location, string reservationId) =>
        (s, revision) => Of(sku, location, s.Reservations[reservationId], s, revision);
}
