namespace Steller.Domain.Orders;

/// <summary>Events of one order (stream "order-{orderId}").</summary>
public interface IOrderEvent;

/// <summary>
/// A secret (card code, PIN) as it lives in events: key-ring key id, base64 AES-GCM blob, and the context it is bound to.
/// </summary>
public sealed record SealedValue(string KeyId, string Ciphertext, string Context);

/// <summary>Where a line is fulfilled from: a vendor kind ("giftcard", "topup") or "stocked" (our own voucher stock).</summary>
public static class LineSources
{
    public const string Stocked = "stocked";
}

/// <summary>
/// What the server priced for one line: unit price charged to the partner and unit cost owed to the vendor (minor
/// units of the order's currency), what the product is and where it comes from.
/// </summary>
public sealed record LinePricing(long UnitPrice, long UnitCost, string ProductType, string Source, string? VendorProductId,
    bool NegativeMargin);

/// <summary>One requested line; <see cref="Pricing"/> is null only on an order rejected before it could be priced.</summary>
public sealed record OrderLine(int LineNo, string Sku, int Quantity, long FaceValue, LinePricing? Pricing)
{
    /// <summary>Derived, so not stored: every reader computes it from the stored unit price and quantity.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public long Price => (Pricing?.UnitPrice ?? 0) * Quantity;
}

public sealed record Recipient(string? Phone, string? Email);

/// <summary>
/// The partner's request, priced. <see cref="RequestHash"/> identifies the request body, so the same client reference
/// with another body is told apart from a repeat. An order rejected at pricing carries the lines as requested and
/// is followed, in the same append, by <see cref="OrderRejected"/>.
/// </summary>
[EventName("order.placed.v1")]
public sealed record OrderPlaced(string OrderId, string PartnerId, string ClientReference, string RequestHash, string? Currency,
    IReadOnlyList<OrderLine> Lines, Recipient? Recipient, long Total, DateTimeOffset PlacedAt) : IOrderEvent;

/// <summary>Refused before anything was held: unknown or delisted sku, out of stock, insufficient funds, ...</summary>
[EventName("order.rejected.v1")]
public sealed record OrderRejected(string Code, string Message) : IOrderEvent;

/// <summary>A stock reservation made for a stocked line.</summary>
public sealed record LineReservation(int LineNo, string Location, string ReservationId, int Quantity);

/// <summary>The wallet hold (transfer id = order id) and the stock reservations are in place.</summary>
[EventName("order.funds-held.v1")]
public sealed record OrderFundsHeld(string HoldTransferId, long Amount, IReadOnlyList<LineReservation> Reservations) : IOrderEvent;

/// <summary>
/// Fulfilment of a line has begun: written BEFORE the vendor (or the stock) is asked, with the request id the
/// vendor will see. From here on the order can no longer be cancelled, and a crash anywhere resumes with the same
/// request id, which the vendor recognises as the same purchase.
/// </summary>
[EventName("order.submitted-to-vendor.v1")]
public sealed record OrderSubmittedToVendor(int LineNo, string Source, string RequestId) : IOrderEvent;

/// <summary>A transient vendor failure (after the adapter's own retries); fulfilment tries again later.</summary>
[EventName("order.vendor-attempt-failed.v1")]
public sealed record VendorAttemptFailed(int LineNo, int Attempt, string Reason) : IOrderEvent;

/// <summary>One delivered unit: codes and PINs sealed; the serial number and expiry are not secret.</summary>
public sealed record DeliveredCard(string? SerialNumber, SealedValue Code, SealedValue? Pin, DateOnly? ExpiresOn);

/// <summary>
/// A line reached its final state at the vendor (or the stock): <see cref="Delivered"/> units delivered (0..quantity),
/// the rest failed with <see cref="FailureReason"/>. Cards hold ciphertext only.
/// </summary>
[EventName("order.fulfilled.v1")]
public sealed record OrderFulfilled(int LineNo, int Delivered, IReadOnlyList<DeliveredCard> Cards, string? FailureReason) : IOrderEvent;

public sealed record VendorPayable(string Vendor, long Amount);

/// <summary>
/// Settled: the hold captured for what was delivered (<see cref="Captured"/> = revenue + vendor payables), the rest
/// released. Status "Completed" (everything delivered) or "PartiallyCompleted".
/// </summary>
[EventName("order.completed.v1")]
public sealed record OrderCompleted(string Status, long Captured, long Released, long Revenue, IReadOnlyList<VendorPayable> Payables)
    : IOrderEvent;

/// <summary>Nothing was delivered; the hold and any reservations were released.</summary>
[EventName("order.failed.v1")]
public sealed record OrderFailed(string Reason, long Released) : IOrderEvent;

/// <summary>Cancelled before fulfilment began (pending timeout, or an admin); the hold and reservations were released.</summary>
[EventName("order.cancelled.v1")]
public sealed record OrderCancelled(string Reason) : IOrderEvent;

/// <summary>
/// An admin sends a failed order round again: lines start over, and the new round holds funds and talks to vendors
/// under ids of its own (<see cref="Order.HoldTransferIdOf"/>, <see cref="Order.RequestIdOf"/>), so nothing of the
/// failed round (its released hold, the vendor's failed purchase) is mistaken for the new one.
/// </summary>
[EventName("order.retried.v1")]
public sealed record OrderRetried(int Round, string Reason) : IOrderEvent;

/// <summary>Money given back to the partner's wallet after a completed order (in full or in part), idempotent by refund id.</summary>
[EventName("order.refunded.v1")]
public sealed record OrderRefunded(string RefundId, long Amount, string Reason) : IOrderEvent;
