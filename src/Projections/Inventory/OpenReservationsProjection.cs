using Steller.Application.Serialization;
using Steller.Domain.Inventory;
using Steller.Projections.Engine;

namespace Steller.Projections.Inventory;

/// <summary>
/// read.stock_open_reservations: reservations not yet committed or released, with their expiry (read by the reservation-expiry job).
/// </summary>
public sealed class OpenReservationsProjection() : OpenItemsProjection(new OpenItemsShape(
    Name: "stock_open_reservations",
    Table: "stock_open_reservations",
    EventTypes: EventTypeSet.Union(EventNames.Of<StockReserved>(), EventNames.Of<ReservationCommitted>(),
        EventNames.Of<ReservationReleased>()),
    Read: e => e switch
    {
        StockReserved r => new ItemOpened(r.ReservationId, r.Quantity, r.ExpiresAt, r.OrderId),
        ReservationCommitted c => new ItemClosed(c.ReservationId),
        ReservationReleased r => new ItemClosed(r.ReservationId),
        _ => null,
    },
    IdColumn: "reservation_id", QuantityColumn: "quantity",
    Doc: new ReadViewDoc("stock_open_reservations", "Stock reservations not yet committed or released, with their expiry (the reservation-expiry loop reads it).",
        ("stream_id", "The stock item's event stream: stock-{sku}.{location}."),
        ("reservation_id", "The reservation's id."),
        ("quantity", "Units reserved."),
        ("expires_at", "When the reservation is released by itself (UTC); null: no expiry."),
        ("order_id", "The order it was made for."),
        ("placed_at", "When it was made (UTC)."))));
