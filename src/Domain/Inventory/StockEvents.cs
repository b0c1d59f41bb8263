namespace Steller.Domain.Inventory;

/// <summary>Events of one stocked product at one location (stream "stock-{sku}.{location}").</summary>
public interface IStockEvent;

/// <summary>
/// Units arrive. <see cref="UnitCost"/> is in minor units of <see cref="Currency"/>.
/// Voucher codes are not carried in this version; when they are, they enter the event only as ciphertext.
/// </summary>
[EventName("stock.received.v1")]
public sealed record StockReceived(string ReceiptId, long Quantity, long UnitCost, string Currency) : IStockEvent;

/// <summary>A counted correction: positive (found, count_correction) or negative (damaged, expired, count_correction).</summary>
[EventName("stock.adjusted.v1")]
public sealed record StockAdjusted(string AdjustmentId, long Quantity, string Reason) : IStockEvent;

/// <summary>Units set aside for an order until committed, released or expired.</summary>
[EventName("stock.reserved.v1")]
public sealed record StockReserved(string ReservationId, long Quantity, string OrderId, DateTimeOffset ExpiresAt, DateTimeOffset? RequestedExpiry) : IStockEvent;

/// <summary>The reserved units leave stock (sold): on hand and reserved both go down.</summary>
[EventName("stock.reservation-committed.v1")]
public sealed record ReservationCommitted(string ReservationId, long Quantity) : IStockEvent;

/// <summary>The reserved units are available again. Reason: failed, cancelled or expired.</summary>
[EventName("stock.reservation-released.v1")]
public sealed record ReservationReleased(string ReservationId, long Quantity, string Reason) : IStockEvent;

/// <summary>Available at or below this is "low" in the read model (0 turns the flag off).</summary>
[EventName("stock.low-threshold-set.v1")]
public sealed record LowThresholdSet(long Threshold) : IStockEvent;
