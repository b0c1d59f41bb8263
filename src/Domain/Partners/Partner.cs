using System.Collections.Immutable;
using System.Net;

namespace Steller.Domain.Partners;

public enum PartnerStatus { Active, Suspended }

/// <summary>An API key as the partner's state remembers it: never the plaintext secret, only its ciphertext.</summary>
public sealed record ApiKey(string KeyId, string EncryptionKeyId, string SecretCiphertext, DateTimeOffset IssuedAt,
    DateTimeOffset? RevokedAt)
{
    public bool Revoked => RevokedAt is not null;
}

public sealed record Margin(string Basis, int BasisPoints);

/// <summary>A partner's own request rate limit (token bucket). Null on the partner: the configured default applies.</summary>
public sealed record RateLimit(int RequestsPerSecond, int Burst)
{
    public bool IsValid => RequestsPerSecond is >= 1 and <= 100_000 && Burst is >= 1 and <= 1_000_000;
}

/// <summary>
/// A partner (reseller, fintech app, agency or an agency's sub-partner): who it is, its API keys, its margin and
/// the addresses its requests may come from.
/// </summary>
public sealed record Partner(
    string? Id,
    string? Name,
    string? ContactEmail,
    string? ParentPartnerId,
    PartnerStatus Status,
    DateTimeOffset? OnboardedAt,
    ImmutableDictionary<string, ApiKey> ApiKeys,
    Margin? Margin,
    ImmutableArray<string> IpAllowlist,
    RateLimit? RateLimit = null,
    DateTimeOffset? ActivatedAt = null)
{
    public const int MaxAllowlistEntries = 100;

    public static readonly Partner Empty = new(null, null, null, null, PartnerStatus.Active, null,
        ImmutableDictionary<string, ApiKey>.Empty.WithComparers(StringComparer.Ordinal), null, []);

    public bool Exists => Id is not null;

    /// <summary>How many of the partner's keys are not revoked.</summary>
    public int ActiveKeyCount => ApiKeys.Values.Count(k => !k.Revoked);

    public const string StreamPrefix = "partner-";

    public static string StreamName(string partnerId) => $"{StreamPrefix}{partnerId}";

    /// <summary>Partner ids: 1–64 of [a-z0-9-], not starting with '-'. No '_' so an API key id can embed the partner id.</summary>
    public static bool IsValidId(string? id) =>
        id is { Length: >= 1 and <= 64 } && id[0] != '-' && id.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-');

    /// <summary>True when requests from <paramref name="address"/> are allowed (an empty allowlist allows all).</summary>
    public bool Allows(IPAddress address)
    {
        if (IpAllowlist.IsDefaultOrEmpty) return true;
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        foreach (var cidr in IpAllowlist)
            if (IPNetwork.TryParse(cidr, out var network) && network.Contains(address)) return true;
        return false;
    }

    public static Partner Evolve(Partner s, IPartnerEvent e) => e switch
    {
        PartnerOnboarded o => s with { Id = o.PartnerId, Name = o.Name, ContactEmail = o.ContactEmail, ParentPartnerId = o.ParentPartnerId,
            OnboardedAt = o.OnboardedAt, Status = PartnerStatus.Active },
        ApiKeyIssued k => s with { ApiKeys = s.ApiKeys.SetItem(k.KeyId,
            new ApiKey(k.KeyId, k.EncryptionKeyId, k.SecretCiphertext, k.IssuedAt, null)) },
        ApiKeyRevoked r => s with { ApiKeys = s.ApiKeys.SetItem(r.KeyId, s.ApiKeys[r.KeyId] with { RevokedAt = r.RevokedAt }) },
        MarginSet m => s with { Margin = new Margin(m.Basis, m.BasisPoints) },
        IpAllowlistSet a => s with { IpAllowlist = [.. a.Cidrs] },
        RateLimitSet r => s with { RateLimit = new RateLimit(r.RequestsPerSecond, r.Burst) },
        PartnerSuspended => s with { Status = PartnerStatus.Suspended },
        PartnerReactivated => s with { Status = PartnerStatus.Active },
        PartnerActivated a => s with { ActivatedAt = a.ActivatedAt },
        _ => throw new ArgumentOutOfRangeException(nameof(e), e.GetType().Name, "Unknown partner event."),
    };

    public static Decision<IPartnerEvent> Decide(IPartnerCommand command, Partner s) => command switch
    {
        OnboardPartner c => DecideOnboard(c, s),
        _ when !s.Exists => Fail(PartnerErrors.NotFound),
        IssueApiKey c => DecideIssue(c, s),
        RevokeApiKey c => !s.ApiKeys.TryGetValue(c.KeyId, out var key) ? Fail(PartnerErrors.ApiKeyNotFound)
                        : key.Revoked ? Decision<IPartnerEvent>.AlreadyDone()
                        : c.SigningKeyId == c.KeyId ? Fail(PartnerErrors.CannotRevokeCurrentKey)
                        : c.Reason is { Length: > 500 } ? Fail(PartnerErrors.InvalidReason)
                        : Emit(new ApiKeyRevoked(c.KeyId, string.IsNullOrWhiteSpace(c.Reason) ? null : c.Reason.Trim(), c.Now)),
        SetMargin c => !MarginBasis.IsKnown(c.Basis) || c.BasisPoints is < 0 or > 10_000 ? Fail(PartnerErrors.InvalidMargin)
                     : s.Margin == new Margin(c.Basis, c.BasisPoints) ? Decision<IPartnerEvent>.AlreadyDone()
                     : Emit(new MarginSet(c.Basis, c.BasisPoints)),
        SetIpAllowlist c => DecideAllowlist(c, s),
        SetRateLimit c => !new RateLimit(c.RequestsPerSecond, c.Burst).IsValid ? Fail(PartnerErrors.InvalidRateLimit)
                        : s.RateLimit == new RateLimit(c.RequestsPerSecond, c.Burst) ? Decision<IPartnerEvent>.AlreadyDone()
                        : Emit(new RateLimitSet(c.RequestsPerSecond, c.Burst)),
        SuspendPartner c => string.IsNullOrWhiteSpace(c.Reason) || c.Reason.Length > 500 ? Fail(PartnerErrors.InvalidReason)
                          : s.Status == PartnerStatus.Suspended ? Decision<IPartnerEvent>.AlreadyDone()
                          : Emit(new PartnerSuspended(c.Reason.Trim(), c.Now)),
        ReactivatePartner c => s.Status == PartnerStatus.Active ? Decision<IPartnerEvent>.AlreadyDone()
            : Emit(new PartnerReactivated(c.Now)),
        ActivatePartner c => s.ActivatedAt is not null ? Decision<IPartnerEvent>.AlreadyDone()
            : Emit(new PartnerActivated(c.OrderId, c.CompletedAt)),
        _ => throw new ArgumentOutOfRangeException(nameof(command), command.GetType().Name, "Unknown partner command."),
    };

    private static Decision<IPartnerEvent> DecideOnboard(OnboardPartner c, Partner s)
    {
        var name = c.Name?.Trim() ?? "";
        var email = c.ContactEmail?.Trim() ?? "";
        var parent = string.IsNullOrWhiteSpace(c.ParentPartnerId) ? null : c.ParentPartnerId.Trim();
        if (s.Exists)
            return s.Name == name && s.ContactEmail == email && s.ParentPartnerId == parent
                ? Decision<IPartnerEvent>.AlreadyDone() : Fail(PartnerErrors.AlreadyOnboarded);
        if (!IsValidId(c.PartnerId)) return Fail(PartnerErrors.InvalidPartnerId);
        if (name.Length is 0 or > 200) return Fail(PartnerErrors.InvalidName);
        if (!IsPlausibleEmail(email)) return Fail(PartnerErrors.InvalidEmail);
        if (parent is not null && !IsValidId(parent)) return Fail(PartnerErrors.ParentNotFound);
        if (parent == c.PartnerId) return Fail(PartnerErrors.InvalidParent);
        return Emit(new PartnerOnboarded(c.PartnerId, name, email, parent, c.Now));
    }

    private static Decision<IPartnerEvent> DecideIssue(IssueApiKey c, Partner s)
    {
        if (string.IsNullOrWhiteSpace(c.KeyId) || string.IsNullOrWhiteSpace(c.EncryptionKeyId)
            || string.IsNullOrWhiteSpace(c.SecretCiphertext))
            return Fail(PartnerErrors.InvalidApiKey);
        if (s.ApiKeys.TryGetValue(c.KeyId, out var existing))
            return existing.SecretCiphertext == c.SecretCiphertext && existing.EncryptionKeyId == c.EncryptionKeyId
                ? Decision<IPartnerEvent>.AlreadyDone() : Fail(PartnerErrors.ApiKeyExists);
        if (s.Status == PartnerStatus.Suspended) return Fail(PartnerErrors.Suspended);
        if (c.MaxActiveKeys is { } max && s.ActiveKeyCount >= max) return Fail(PartnerErrors.TooManyApiKeys);
        return Emit(new ApiKeyIssued(c.KeyId, c.EncryptionKeyId, c.SecretCiphertext, c.Now));
    }

    private static Decision<IPartnerEvent> DecideAllowlist(SetIpAllowlist c, Partner s)
    {
        var given = c.Cidrs ?? [];
        if (given.Count > MaxAllowlistEntries) return Fail(PartnerErrors.InvalidCidr);
        var normalised = new List<string>();
        foreach (var entry in given)
        {
            if (NormaliseCidr(entry) is not { } cidr) return Fail(PartnerErrors.InvalidCidr);
            if (!normalised.Contains(cidr)) normalised.Add(cidr);
        }
        return normalised.SequenceEqual(s.IpAllowlist.IsDefault ? [] : s.IpAllowlist) ? Decision<IPartnerEvent>.AlreadyDone()
            : Emit(new IpAllowlistSet(normalised));
    }

    /// <summary>"203.0.113.0/24" stays; a bare address becomes /32 (or /128); host bits set or garbage gives null.</summary>
    public static string? NormaliseCidr(string? text)
    {
        text = text?.Trim();
        if (string.IsNullOrEmpty(text)) return null;
        if (!text.Contains('/') && IPAddress.TryParse(text, out var single))
            return new IPNetwork(single, single.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128).ToString();
        // Strict: an address with host bits set ("10.0.0.1/8") is a typo more often than a range.
        var slash = text.IndexOf('/');
        return slash > 0 && IPAddress.TryParse(text[..slash], out var given) && IPNetwork.TryParse(text, out var network)
            && network.BaseAddress.Equals(given)
            ? network.ToString() : null;
    }

    private static bool IsPlausibleEmail(string email)
    {
        if (email.Length is < 3 or > 254 || email.Any(char.IsWhiteSpace)) return false;
        var at = email.IndexOf('@');
        return at > 0 && at == email.LastIndexOf('@') && at < email.Length - 1 && email[(at + 1)..].Contains('.');
    }

    private static Decision<IPartnerEvent> Emit(IPartnerEvent e) => Decision<IPartnerEvent>.Emit(e);
    private static Decision<IPartnerEvent> Fail(DomainError error) => Decision<IPartnerEvent>.Fail(error);
}
