namespace Steller.Domain.Inventory;

/// <summary>Events of one stocked product at one location (stream "stock-{sku}.{location}").</summary>
public interface IStockEvent;

/// <summary>
/// One voucher code as it lives in events and state: an id (stable for the code's whole life), the key-ring key id
/// and the base64 AES-GCM blob. The plaintext never enters an event; it is sealed at the edge with the context
/// <c>voucher:{VoucherId}</c>, so a blob cannot be moved to another voucher id.
/// </summary>
public sealed record SealedVoucher(string VoucherId, string KeyId, string Ciphertext);

/// <summary>
/// Units arrive. <see cref="UnitCost"/> is in minor units of <see cref="Currency"/>. When the product has codes,
/// <see cref="Vouchers"/> holds exactly <see cref="Quantity"/> sealed codes (null: a product without codes).
/// v1 had no vouchers; it is read as v2 with <see cref="Vouchers"/> null.
/// </summary>
[EventName("stock.received.v2")]
public sealed record StockReceived(string ReceiptId, long Quantity, long UnitCost, string Currency,
    IReadOnlyList<SealedVoucher>? Vouchers = null) : IStockEvent;

/// <summary>
/// A counted correction: positive (found, count_correction) or negative (damaged, expired, count_correction).
/// On stock with codes a negative adjustment removes the oldest unassigned codes, named in <see cref="RemovedVoucherIds"/>.
/// v1 had no voucher ids; it is read as v2 with null.
/// </summary>
[EventName("stock.adjusted.v2")]
public sealed record StockAdjusted(string AdjustmentId, long Quantity, string Reason, IReadOnlyList<string>? RemovedVoucherIds = null)
    : IStockEvent;

/// <summary>
/// First half of a move between locations: units (and, for coded stock, the oldest unassigned codes) leave this
/// location. The matching <see cref="StockTransferredIn"/> on the receiving location carries the same transfer id;
/// a process completes it if the writer died in between.
/// </summary>
[EventName("stock.transferred-out.v1")]
public sealed record StockTransferredOut(string TransferId, string ToLocation, long Quantity, string Currency,
    IReadOnlyList<SealedVoucher>? Vouchers) : IStockEvent;

/// <summary>Second half of a move between locations: the units (and codes) arrive here. Idempotent by transfer id.</summary>
[EventName("stock.transferred-in.v1")]
public sealed record StockTransferredIn(string TransferId, string FromLocation, long Quantity, string Currency,
    IReadOnlyList<SealedVoucher>? Vouchers) : IStockEvent;

/// <summary>Units set aside for an order until committed, released or expired.</summary>
[EventName("stock.reserved.v1")]
public sealed record StockReserved(string ReservationId, long Quantity, string OrderId, DateTimeOffset ExpiresAt,
    DateTimeOffset? RequestedExpiry) : IStockEvent;

/// <summary>
/// The reserved units leave stock (sold): on hand and reserved both go down. For coded stock
/// <see cref="Vouchers"/> are the codes assigned to the order, oldest received first.
/// v1 had no vouchers; it is read as v2 with null.
/// </summary>
[EventName("stock.reservation-committed.v2")]
public sealed record ReservationCommitted(string ReservationId, long Quantity, IReadOnlyList<SealedVoucher>? Vouchers = null) : IStockEvent;

/// <summary>The reserved units are available again. Reason: failed, cancelled or expired.</summary>
[EventName("stock.reservation-released.v1")]
public sealed record ReservationReleased(string ReservationId, long Quantity, string Reason) : IStockEvent;

/// <summary>Available at or below this is "low" in the read model (0 turns the flag off).</summary>
[EventName("stock.low-threshold-set.v1")]
public sealed record LowThresholdSet(long Threshold) : IStockEvent;

/// <summary>Shapes that changed: the older names are read through these (JSON in, JSON out) as the current version.</summary>
public static class StockUpcasters
{
    /// <summary>(old name, new name): every change so far only added an optional field, so the JSON passes unchanged.</summary>
    public static readonly IReadOnlyList<(string From, string To)> Renames =
    [
        ("stock.received.v1", "stock.received.v2"),
        ("stock.adjusted.v1", "stock.adjusted.v2"),
        ("stock.reservation-committed.v1", "stock.reservation-committed.v2"),
    ];
}
