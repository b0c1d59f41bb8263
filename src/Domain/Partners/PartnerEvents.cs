namespace Steller.Domain.Partners;

/// <summary>Events of one partner (stream "partner-{partnerId}").</summary>
public interface IPartnerEvent;

/// <summary>A partner joins. <see cref="ParentPartnerId"/> is set for an agency's sub-partner.</summary>
[EventName("partner.onboarded.v1")]
public sealed record PartnerOnboarded(string PartnerId, string Name, string ContactEmail, string? ParentPartnerId,
    DateTimeOffset OnboardedAt) : IPartnerEvent;

/// <summary>
/// An API key. The secret is shown to the caller once and stored only encrypted: <see cref="SecretCiphertext"/> is
/// base64 of nonce‖ciphertext‖tag under key-ring key <see cref="EncryptionKeyId"/>. Never the plaintext.
/// </summary>
[EventName("partner.api-key-issued.v1")]
public sealed record ApiKeyIssued(string KeyId, string EncryptionKeyId, string SecretCiphertext, DateTimeOffset IssuedAt) : IPartnerEvent;

[EventName("partner.api-key-revoked.v1")]
public sealed record ApiKeyRevoked(string KeyId, string? Reason, DateTimeOffset RevokedAt) : IPartnerEvent;

/// <summary>How the partner's price is derived: <see cref="MarginBasis"/> plus basis points. Stored only; pricing reads it later.</summary>
[EventName("partner.margin-set.v1")]
public sealed record MarginSet(string Basis, int BasisPoints) : IPartnerEvent;

/// <summary>The CIDRs partner requests may come from, normalised (e.g. "203.0.113.0/24"). Empty: any address.</summary>
[EventName("partner.ip-allowlist-set.v1")]
public sealed record IpAllowlistSet(IReadOnlyList<string> Cidrs) : IPartnerEvent;

/// <summary>The partner's request rate limit: a token bucket refilled at <see cref="RequestsPerSecond"/>, holding <see cref="Burst"/>.</summary>
[EventName("partner.rate-limit-set.v1")]
public sealed record RateLimitSet(int RequestsPerSecond, int Burst) : IPartnerEvent;

[EventName("partner.suspended.v1")]
public sealed record PartnerSuspended(string Reason, DateTimeOffset SuspendedAt) : IPartnerEvent;

[EventName("partner.reactivated.v1")]
public sealed record PartnerReactivated(DateTimeOffset ReactivatedAt) : IPartnerEvent;

/// <summary>
/// The partner's first completed order (Completed or PartiallyCompleted): the growth reports count a partner as activated
/// from here. Written once per partner, by the order aftermath; <see cref="ActivatedAt"/> is when that order completed.
/// </summary>
[EventName("partner.activated.v1")]
public sealed record PartnerActivated(string FirstOrderId, DateTimeOffset ActivatedAt) : IPartnerEvent;

/// <summary>The margin bases a partner's price can use.</summary>
public static class MarginBasis
{
    /// <summary>Price = vendor cost + basis points of cost.</summary>
    public const string CostPlus = "cost-plus";
    /// <summary>The partner receives this share (basis points) of the vendor's discount; Steller keeps the rest.</summary>
    public const string DiscountShare = "discount-share";

    public static bool IsKnown(string? basis) => basis is CostPlus or DiscountShare;
}
