namespace Steller.Domain.Vendors;

/// <summary>What finance can record on a vendor account.</summary>
public interface IVendorAccountCommand;

/// <summary>A top-up of the prepaid account at <paramref name="Vendor"/>, idempotent by <paramref name="Reference"/>.</summary>
public sealed record RecordVendorTopUp(string Vendor, string Reference, string Currency, long Amount) : IVendorAccountCommand;

/// <summary>A reversal by the vendor (money back into the prepaid account), idempotent by <paramref name="Reference"/>.</summary>
public sealed record RecordVendorRefund(string Vendor, string Reference, string Currency, long Amount, string? OrderId, string Reason)
    : IVendorAccountCommand;
