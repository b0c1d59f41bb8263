using Steller.Domain;
using Steller.Domain.Orders;

namespace Steller.Application.Orders;

/// <summary>
/// Prices one requested line for one partner: the catalog's product, the partner's margin rule. Either a pricing
/// with its currency, or a domain error (unknown_sku, product_delisted, face_value_out_of_range, ...).
/// </summary>
public interface IOrderPricing
{
    Task<LineQuote> Quote(string partnerId, string sku, long faceValue, int quantity, CancellationToken ct = default);
}

public sealed record LineQuote(LinePricing? Pricing, string? Currency, DomainError? Error);

/// <summary>
/// Where a stocked sku is kept: every location that ever held it, in a fixed order (so a retried placement tries the same place first).
/// </summary>
public interface IStockLocations
{
    Task<IReadOnlyList<string>> LocationsOf(string sku, CancellationToken ct = default);
}

/// <summary>
/// How many order lines wait for a vendor, against how many its request budget can serve before the pending-order
/// timeout. Placement refuses new orders for a vendor whose queue is full (<c>vendor_busy</c>) rather than accept orders
/// that the timeout would cancel later.
/// </summary>
public interface IVendorBacklog
{
    /// <summary>Null when the vendor can take one more line now; otherwise how full it is and when to come back.</summary>
    Task<VendorBusy?> Busy(string vendor, CancellationToken ct = default);

    /// <summary>
    /// This node just queued <paramref name="lines"/> lines at <paramref name="vendor"/> (funds held at
    /// <paramref name="position"/>): counted until the read model the queue is read from has caught up with them, so a
    /// burst faster than the read model cannot over-fill the queue.
    /// </summary>
    void Accepted(string vendor, int lines, EventStore.LogPosition position) { }
}

/// <param name="Queued">Vendor lines of orders in flight that are not final yet.</param>
/// <param name="Capacity">Lines the vendor's budget serves within the pending-order timeout.</param>
/// <param name="RetryAfter">When the queue will likely have room again.</param>
public sealed record VendorBusy(string Vendor, long Queued, long Capacity, TimeSpan RetryAfter)
{
    public DomainError Error => new("vendor_busy",
        $"Vendor '{Vendor}' has {Queued} line(s) queued, as many as it can serve in time; try again in {(int)Math.Ceiling(RetryAfter.TotalSeconds)} s.");
}

/// <summary>No backlog known (a host without vendors, tests of the use cases): never busy.</summary>
public sealed class NoVendorBacklog : IVendorBacklog
{
    public Task<VendorBusy?> Busy(string vendor, CancellationToken ct = default) => Task.FromResult<VendorBusy?>(null);
}
