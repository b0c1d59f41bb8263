namespace Steller.Application.Vendors;

/// <summary>The two upstream protocols Steller speaks (DOMAIN.md "Vendors").</summary>
public static class VendorKinds
{
    /// <summary>Bamboo-like gift-card aggregator: Basic auth, paged catalog, orders by client RequestId, polling.</summary>
    public const string GiftCard = "giftcard";
    /// <summary>DingConnect/Reloadly-like mobile top-up aggregator: API-key header, providers/products, transfers.</summary>
    public const string TopUp = "topup";
}

/// <summary>
/// One product as a vendor lists it, already in Steller's terms: money in integer minor units of
/// <see cref="Currency"/>, cost either absolute (<see cref="CostAmount"/>, per unit of face value
/// <see cref="FixedFaceValue"/>) or as a discount off face value in basis points (<see cref="DiscountBasisPoints"/>).
/// Face value is either fixed or a range [<see cref="MinFaceValue"/>, <see cref="MaxFaceValue"/>].
/// </summary>
public sealed record VendorProduct(
    string Vendor,
    string VendorProductId,
    string Name,
    string Brand,
    string Country,
    string Currency,
    string ProductType,          // "gift_card" | "top_up"
    long? FixedFaceValue,
    long? MinFaceValue,
    long? MaxFaceValue,
    long? CostAmount,
    int? DiscountBasisPoints);

/// <summary>Reads a vendor's whole catalog, paging within the vendor's rate limit and honouring Retry-After.</summary>
public interface IVendorCatalog
{
    string Vendor { get; }
    IAsyncEnumerable<VendorProduct> ReadCatalog(CancellationToken ct = default);
}

/// <summary>
/// One purchase at a vendor. <see cref="RequestId"/> is deterministic (derived from the order line), so a resubmission
/// after a crash is recognised by the vendor as the same purchase and never creates a second vendor order.
/// <see cref="MayHaveBeenSent"/>: an earlier attempt (in this process or another, before a crash) may have reached the
/// vendor, so an adapter that can ask asks the vendor about the request id before submitting it again.
/// </summary>
public sealed record VendorPurchase(
    string Vendor,
    string RequestId,
    string VendorProductId,
    long FaceValue,
    int Quantity,
    string Currency,
    string? RecipientPhone,
    bool MayHaveBeenSent = false);

public enum VendorPurchaseStatus
{
    /// <summary>Accepted, not final yet: poll again later.</summary>
    Processing,
    /// <summary>Every unit delivered.</summary>
    Succeeded,
    /// <summary>Final: some units delivered (see <see cref="VendorPurchaseResult.Cards"/>), the rest failed.</summary>
    PartialFailed,
    /// <summary>Final: nothing delivered (rejected or failed at the vendor).</summary>
    Failed,
}

/// <summary>One delivered unit. <see cref="Code"/> and <see cref="Pin"/> are secrets: seal them before they go anywhere.</summary>
public sealed record VendorCard(string SerialNumber, string Code, string? Pin, DateOnly? ExpirationDate);

/// <summary>What the vendor says about a purchase. <see cref="Delivered"/> = units delivered (top-ups have no cards).</summary>
public sealed record VendorPurchaseResult(VendorPurchaseStatus Status, int Delivered, IReadOnlyList<VendorCard> Cards,
    string? FailureReason);

/// <summary>A transient failure that survived the resilience pipeline (timeouts, 5xx, 429s): try again later.</summary>
public sealed class VendorUnavailableException(string vendor, string message, Exception? inner = null)
    : Exception($"{vendor}: {message}", inner)
{
    public string Vendor { get; } = vendor;
}

/// <summary>
/// Places and follows purchases. Submit is idempotent by request id (a repeat returns the current state of the first
/// purchase); a vendor's permanent refusal comes back as <see cref="VendorPurchaseStatus.Failed"/> with a reason,
/// transient trouble as <see cref="VendorUnavailableException"/>.
/// </summary>
public interface IVendorOrders
{
    string Vendor { get; }
    Task<VendorPurchaseResult> Submit(VendorPurchase purchase, CancellationToken ct = default);
    Task<VendorPurchaseResult> Poll(VendorPurchase purchase, CancellationToken ct = default);
}

/// <summary>
/// The prepaid balance a vendor reports for Steller's account in one currency: <see cref="Reported"/> as the vendor sent it
/// (major units), <see cref="Minor"/> in minor units of <see cref="Currency"/> (rounded down when the vendor sent digits below
/// the minor unit: then <see cref="Exact"/> is false).
/// </summary>
public sealed record VendorReportedBalance(string Vendor, string Currency, decimal Reported, long Minor, bool Exact);

/// <summary>
/// Asks a vendor for Steller's prepaid balance. The answer is untrusted: an answer in another currency, an implausible amount
/// or a malformed body is refused as <see cref="VendorUnavailableException"/> (as is transport trouble), never passed on.
/// </summary>
public interface IVendorBalances
{
    string Vendor { get; }
    Task<VendorReportedBalance> Balance(string currency, CancellationToken ct = default);
}
