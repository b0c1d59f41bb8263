using Steller.Projections.Engine;

namespace Steller.Projections.Inventory;

/// <summary>read.stock_open_reservations: reservations not yet committed or released, with their expiry (read by the reservation-expiry job).</summary>
public sealed class OpenReservationsProjection() : OpenItemsProjection(new OpenItemsShape(
    Name: "stock_open_reservations",
    Table: "stock_open_reservations",
    OpenedType: "stock.reserved.v1",
    ClosedTypes: ["stock.reservation-committed.v1", "stock.reservation-committed.v2", "stock.reservation-released.v1"],
    IdProperty: "reservationId", IdColumn: "reservation_id",
    QuantityProperty: "quantity", QuantityColumn: "quantity"));
