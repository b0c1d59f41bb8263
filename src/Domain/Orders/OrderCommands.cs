namespace Steller.Domain.Orders;

/// <summary>What can be asked of one order. Ids, prices and time arrive on the command; the domain reads no clock.</summary>
public interface IOrderCommand;

/// <summary>Pricing already done by the caller; <paramref name="Rejection"/> set when pricing refused the order.</summary>
public sealed record PlaceOrder(string OrderId, string PartnerId, string ClientReference, string RequestHash, string? Currency,
    IReadOnlyList<OrderLine> Lines, Recipient? Recipient, OrderRejected? Rejection, DateTimeOffset Now) : IOrderCommand;
public sealed record RejectOrder(string Code, string Message) : IOrderCommand;
public sealed record RecordFundsHeld(IReadOnlyList<LineReservation> Reservations) : IOrderCommand;
/// <summary>Marks every line as started (see <see cref="OrderSubmittedToVendor"/>); a no-op once started.</summary>
public sealed record StartFulfilment : IOrderCommand;
public sealed record RecordAttemptFailed(int LineNo, string Reason) : IOrderCommand;
public sealed record RecordLineFulfilled(int LineNo, int Delivered, IReadOnlyList<DeliveredCard> Cards, string? FailureReason)
    : IOrderCommand;
/// <summary>Every line is final: completes (capture) or fails (nothing delivered). The amounts are computed by the order.</summary>
public sealed record Settle : IOrderCommand;
public sealed record CancelOrder(string Reason) : IOrderCommand;
/// <summary>Only a failed order: a new round of placement (hold, reservations) and fulfilment.</summary>
public sealed record RetryOrder(string Reason) : IOrderCommand;
public sealed record RefundOrder(string RefundId, long Amount, string Reason) : IOrderCommand;
