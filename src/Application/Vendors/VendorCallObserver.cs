namespace Steller.Application.Vendors;

/// <summary>
/// One HTTP attempt at a vendor. <see cref="Status"/> is null when no response came (timeout, connection error).
/// <see cref="WasError"/>: no response or a 5xx; <see cref="WasRateLimited"/>: the vendor answered 429.
/// </summary>
public sealed record VendorCallObservation(
    string Vendor,
    string Operation,
    int? Status,
    double LatencyMs,
    bool WasRateLimited,
    bool WasError,
    DateTimeOffset At);

/// <summary>
/// Watches vendor calls for operations (read.vendor_health). Implementations must never block or throw: a vendor call
/// does not wait for, or fail because of, its observation.
/// </summary>
public interface IVendorCallObserver
{
    void Called(VendorCallObservation call);

    /// <summary>A complete catalog read of <paramref name="vendor"/> returned <paramref name="products"/> products.</summary>
    void CatalogSynced(string vendor, int products, DateTimeOffset at);
}

public sealed class NullVendorCallObserver : IVendorCallObserver
{
    public static readonly NullVendorCallObserver Instance = new();
    public void Called(VendorCallObservation call) { }
    public void CatalogSynced(string vendor, int products, DateTimeOffset at) { }
}
