namespace Steller.Domain.Partners;

/// <summary>What can be asked of a partner. Time and ids arrive on the command; the domain reads no clock.</summary>
public interface IPartnerCommand;

public sealed record OnboardPartner(string PartnerId, string Name, string ContactEmail, string? ParentPartnerId, DateTimeOffset Now)
    : IPartnerCommand;
/// <summary>
/// Records a key whose secret the caller already encrypted with the key ring. <see cref="MaxActiveKeys"/> caps the partner's
/// unrevoked keys (the partner's self-service passes it; an admin issuing a key is not capped).
/// </summary>
public sealed record IssueApiKey(string KeyId, string EncryptionKeyId, string SecretCiphertext, DateTimeOffset Now,
    int? MaxActiveKeys = null) : IPartnerCommand;
/// <summary>
/// Revokes a key. <see cref="SigningKeyId"/> is the key that signed the partner's own request (self-service): that key
/// cannot revoke itself, so a partner cannot lock itself out by mistake.
/// </summary>
public sealed record RevokeApiKey(string KeyId, string? Reason, DateTimeOffset Now, string? SigningKeyId = null) : IPartnerCommand;
public sealed record SetMargin(string Basis, int BasisPoints) : IPartnerCommand;
public sealed record SetIpAllowlist(IReadOnlyList<string> Cidrs) : IPartnerCommand;
public sealed record SuspendPartner(string Reason, DateTimeOffset Now) : IPartnerCommand;
public sealed record ReactivatePartner(DateTimeOffset Now) : IPartnerCommand;
/// <summary>The partner's own request rate limit (token bucket: refill per second, bucket size).</summary>
public sealed record SetRateLimit(int RequestsPerSecond, int Burst) : IPartnerCommand;
/// <summary>Marks the partner activated by its first completed order; a partner already activated answers "already done".</summary>
public sealed record ActivatePartner(string OrderId, DateTimeOffset CompletedAt) : IPartnerCommand;
