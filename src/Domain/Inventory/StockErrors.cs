namespace Steller.Domain.Inventory;

public static class StockErrors
{
    public static readonly DomainError Exhausted = new("stock_exhausted",
        "Not enough available stock (on hand minus reserved) for this reservation.");
    public static readonly DomainError InsufficientStock = new("insufficient_stock",
        "The adjustment would take on-hand stock below what is reserved.");
    public static readonly DomainError TransferExceedsAvailable = new("insufficient_stock",
        "The transfer asks for more units than the sending location has available (on hand minus reserved).");
    public static readonly DomainError NotFound = new("stock_not_found",
        "Nothing was ever stocked for this sku at this location: receive units there first.");
    public static readonly DomainError NeverStocked = new("never_stocked",
        "This sku was never stocked at this location, so units found here would have no unit cost or currency: record them "
        + "as a receipt (with unitCost and currency) instead.");
    public static readonly DomainError ReasonTakesAway = new("reason_sign_mismatch",
        "This reason only takes units away (damaged, expired): give a negative quantity.");
    public static readonly DomainError ReasonAdds = new("reason_sign_mismatch",
        "This reason only adds units (found): give a positive quantity.");

    /// <summary>A currency not in <see cref="Currency.MinorUnits"/>, named in the message when it looks like a code.</summary>
    public static DomainError UnknownCurrency(string? code) => new("unknown_currency", Currency.UnknownMessage(code));
    public static readonly DomainError IdempotencyConflict = new("idempotency_conflict",
        "This id was already used with different content.");
    public static readonly DomainError ReservationNotFound = new("reservation_not_found", "No reservation with this id.");
    public static readonly DomainError ReservationReleased = new("reservation_released",
        "The reservation was released; it cannot be committed.");
    public static readonly DomainError ReservationCommitted = new("reservation_committed",
        "The reservation was committed; it cannot be released.");
    public static readonly DomainError InvalidQuantity = new("invalid_quantity",
        "Quantities are positive whole units (adjustments: non-zero).");
    public static readonly DomainError InvalidUnitCost = new("invalid_unit_cost", "The unit cost is 0 or more minor units.");
    public static readonly DomainError CurrencyMismatch = new("currency_mismatch", "This stock is costed in another currency.");
    public static readonly DomainError InvalidReason = new("invalid_reason", "Unknown reason code.");
    public static readonly DomainError ExpiryInPast = new("invalid_expiry", "A reservation cannot expire in the past.");
    public static readonly DomainError SameLocation = new("invalid_transfer", "A transfer moves stock to another location.");
    public static readonly DomainError CodesRequired = new("voucher_codes_required",
        "This stock carries a voucher code per unit: units can only arrive with their codes.");
    public static readonly DomainError CodesNotExpected = new("voucher_codes_not_expected",
        "This stock has no voucher codes; units with codes belong to a product that has them.");
    public static readonly DomainError CodesCountMismatch = new("voucher_codes_count_mismatch", "Give exactly one voucher code per unit.");
    public static readonly DomainError InvalidThreshold = new("invalid_threshold", "The low-stock threshold is 0 or more units.");
}
