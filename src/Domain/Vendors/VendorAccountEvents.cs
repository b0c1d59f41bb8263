namespace Steller.Domain.Vendors;

/// <summary>Events of Steller's prepaid account at one vendor (stream "vendor-{vendor}", every currency in one stream).</summary>
public interface IVendorAccountEvent
{
    string Reference { get; }
    string Currency { get; }
    long Amount { get; }
}

/// <summary>
/// Finance paid money into Steller's prepaid account at the vendor: debit <see cref="DebitAccount"/> (the vendor account,
/// platform:vendor:{vendor}:{ccy}: the prepaid balance grows), credit <see cref="CreditAccount"/> (platform:funding:{ccy}: the
/// money left Steller's bank). Idempotent by <see cref="Reference"/> (the bank transfer's reference).
/// </summary>
[EventName("vendor.topped-up.v1")]
public sealed record VendorToppedUp(string Reference, string Currency, long Amount, string DebitAccount, string CreditAccount)
    : IVendorAccountEvent;

/// <summary>
/// The vendor reversed a purchase and gave its cost back to the prepaid account: debit <see cref="DebitAccount"/> (the vendor
/// account), credit <see cref="CreditAccount"/> (platform:revenue:{ccy}, which paid the partner's refund). Idempotent by
/// <see cref="Reference"/> (the vendor's reversal reference).
/// </summary>
[EventName("vendor.refunded.v1")]
public sealed record VendorRefunded(string Reference, string Currency, long Amount, string? OrderId, string Reason, string DebitAccount,
    string CreditAccount) : IVendorAccountEvent;
