using System.Security.Cryptography;
using Steller.Application.Commands;
using Steller.Application.Crypto;
using Steller.Application.Partners.IssuingApiKey;
using Steller.Domain.Partners;

namespace Steller.Application.Partners.AuthenticatingRequests;

/// <summary>A key as a signed request needs it: its partner, whether it is revoked, and the HMAC key (UTF-8 of the secret).</summary>
public sealed record ResolvedApiKey(Partner Partner, ApiKey Key, byte[] HmacKey);

/// <summary>
/// Resolves a request's key id to its partner by reading that partner's stream (the key id names the partner):
/// one stream read per request, so a revocation or suspension counts from the very next request, on every node.
/// </summary>
public sealed class ApiKeyResolver(AggregateCommands<Partner, IPartnerCommand, IPartnerEvent> partners, IKeyRing keyRing)
{
    /// <summary>Null when no partner has this key.</summary>
    public async Task<ResolvedApiKey?> Resolve(string keyId, CancellationToken ct = default)
    {
        if (IssueApiKeyHandler.PartnerIdOf(keyId) is not { } partnerId) return null;
        var read = await partners.LoadPartner(partnerId, ct);
        RequestPartnerRead.Remember(partnerId, read); // pricing later in this request uses this read
        var partner = read.State;
        if (!partner.Exists || !partner.ApiKeys.TryGetValue(keyId, out var key)) return null;
        byte[] secret;
        try { secret = keyRing.Decrypt(key.EncryptionKeyId, Convert.FromBase64String(key.SecretCiphertext), keyId); }
        catch (Exception e) when (e is CryptographicException or FormatException)
        {
            throw new InvalidOperationException($"The secret of API key {keyId} does not decrypt with key-ring key "
                + $"'{key.EncryptionKeyId}'; is that master key configured?", e);
        }
        return new ResolvedApiKey(partner, key, secret);
    }
}
