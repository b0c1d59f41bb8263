namespace Steller.Domain.Orders;

public static class OrderErrors
{
    public static readonly DomainError IdempotencyConflict = new("idempotency_conflict",
        "This clientReference was already used for an order with a different body.");
    public static readonly DomainError NotFound = new("order_not_found", "No such order.");
    public static readonly DomainError InvalidTransition = new("invalid_transition", "The order is not in a state that allows this.");
    public static readonly DomainError AlreadyStarted = new("order_in_fulfilment",
        "Fulfilment has begun; the order can no longer be cancelled.");
    public static readonly DomainError UnknownLine = new("unknown_line", "The order has no such line.");
    public static readonly DomainError InvalidDelivery = new("invalid_delivery", "Delivered units are between 0 and the line's quantity.");
    public static readonly DomainError LinesNotFinal = new("lines_not_final", "Every line must be final before the order settles.");
    public static readonly DomainError RefundExceedsCaptured = new("refund_exceeds_captured",
        "The refund is more than what is left of the captured amount.");
    public static readonly DomainError InvalidAmount = new("invalid_amount", "Amounts are positive minor units.");
}
