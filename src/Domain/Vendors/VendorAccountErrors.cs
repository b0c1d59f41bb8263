namespace Steller.Domain.Vendors;

public static class VendorAccountErrors
{
    public static readonly DomainError IdempotencyConflict = new("idempotency_conflict",
        "This reference was already used on this vendor account with different content.");
    public static readonly DomainError InvalidAmount = new("invalid_amount", "Amounts are positive whole minor units.");
    public static readonly DomainError InvalidVendor = new("invalid_vendor", "Vendor ids are 1–64 of a-z, 0-9 and '-'.");
    public static readonly DomainError UnknownCurrency = new("unknown_currency", "Not an ISO 4217 currency code in use.");
}
