using Steller.Domain.Partners;

namespace Steller.Application.Partners.ViewingPartner;

public sealed record ApiKeyView(string KeyId, DateTimeOffset IssuedAt, bool Revoked, DateTimeOffset? RevokedAt);
public sealed record MarginView(string Basis, int BasisPoints);
/// <summary>The partner's own rate limit; null in <see cref="PartnerView"/> when the configured default applies.</summary>
public sealed record RateLimitView(int RequestsPerSecond, int Burst);

/// <summary>A partner as the admin API shows it: never a secret or ciphertext.</summary>
public sealed record PartnerView(
    string PartnerId, string Name, string ContactEmail, string? ParentPartnerId, string Status, DateTimeOffset? OnboardedAt,
    MarginView? Margin, IReadOnlyList<string> IpAllowlist, IReadOnlyList<ApiKeyView> ApiKeys, long Revision,
    RateLimitView? RateLimit = null)
{
    public static PartnerView Of(Partner p, long revision) => new(
        p.Id!, p.Name!, p.ContactEmail!, p.ParentPartnerId, p.Status == PartnerStatus.Active ? "active" : "suspended", p.OnboardedAt,
        p.Margin is { } m ? new MarginView(m.Basis, m.BasisPoints) : null,
        p.IpAllowlist.IsDefault ? [] : [.. p.IpAllowlist],
        p.ApiKeys.Values.OrderBy(k => k.IssuedAt).ThenBy(k => k.KeyId, StringComparer.Ordinal)
            .Select(k => new ApiKeyView(k.KeyId, k.IssuedAt, k.Revoked, k.RevokedAt)).ToList(),
        revision,
        p.RateLimit is { } r ? new RateLimitView(r.RequestsPerSecond, r.Burst) : null);
}
