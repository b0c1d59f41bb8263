using Prometheus;

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

/// <summary>Vendor calls in /metrics: <c>steller_vendor_calls_total{vendor, outcome}</c>.</summary>
public static class VendorMetrics
{
    public static readonly Counter Calls = Metrics.CreateCounter("steller_vendor_calls_total",
        "HTTP attempts at vendors by vendor and outcome: ok (2xx-4xx other than 429), rate_limited (429), error (5xx or no answer).",
            "vendor", "outcome");

    public static readonly Counter StaleTokens = Metrics.CreateCounter("steller_vendor_stale_tokens_total",
        "Rate tokens spent unused because they reached the vendor call later than Vendors:*:MaxTokenAgeMilliseconds after "
        + "they were asked for (another token was taken).", "vendor");

    public static string OutcomeOf(VendorCallObservation call) => call.WasRateLimited ? "rate_limited" : call.WasError ? "error" : "ok";
}
