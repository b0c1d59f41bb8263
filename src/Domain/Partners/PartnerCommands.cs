namespace Steller.Domain.Partners;

/// <summary>What can be asked of a partner. Time and ids arrive on the command; the domain reads no clock.</summary>
public interface IPartnerCommand;

public sealed record OnboardPartner(string PartnerId, string Name, string ContactEmail, string? ParentPartnerId, DateTimeOffset Now)
    : IPartnerCommand;
/// <summary>Records a key whose secret the caller already encrypted with the key ring.</summary>
public sealed record IssueApiKey(string KeyId, string EncryptionKeyId, string SecretCiphertext, DateTimeOffset Now) : IPartnerCommand;
public sealed record RevokeApiKey(string KeyId, string? Reason, DateTimeOffset Now) : IPartnerCommand;
public sealed record SetMargin(string Basis, int BasisPoints) : IPartnerCommand;
public sealed record SetIpAllowlist(IReadOnlyList<string> Cidrs) : IPartnerCommand;
public sealed record SuspendPartner(string Reason, DateTimeOffset Now) : IPartnerCommand;
public sealed record ReactivatePartner(DateTimeOffset Now) : IPartnerCommand;
