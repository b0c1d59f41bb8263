using MediatR;
using Steller.Application.EventStore;
using Steller.Application.Pipeline;
using Steller.Application.Time;
using Steller.Domain;
using System.Security.Cryptography;
using Steller.Application.Commands;
using System.Text;
using Steller.Application.Crypto;
using Steller.Domain.Partners;

namespace Steller.Application.Partners.IssuingApiKey;

/// <summary>The one and only time the secret is seen: it is stored encrypted and never shown again.</summary>
public sealed record IssuedApiKey(string KeyId, string Secret);

/// <summary>
/// Issues an API key: key id <c>pk_{partnerId}_{random}</c> (the partner id inside lets a request's key be resolved with
/// one stream read) and secret <c>sk_</c> + 32 random bytes base64url. The secret is sealed by the key ring (bound to
/// the key id) before it enters the event.
/// </summary>
/// <param name="MaxActiveKeys">Caps the partner's unrevoked keys (the partner's own requests); null for an admin.</param>
public sealed record IssueApiKeyRequest(string PartnerId, EventMetadata Metadata, long? IfMatch = null, int? MaxActiveKeys = null)
    : IRequest<IssueApiKeyResult>;

/// <summary>The partner after the command, and the key when it was issued (null when refused).</summary>
public sealed record IssueApiKeyResult(CommandOutcome<Partner> Outcome, IssuedApiKey? Key) : IRefusable
{
    public DomainError? Error => Outcome.Error;
}

public sealed class IssueApiKeyHandler(AggregateCommands<Partner, IPartnerCommand, IPartnerEvent> partners, IKeyRing keyRing, IClock clock)
    : IRequestHandler<IssueApiKeyRequest, IssueApiKeyResult>
{
    public const string KeyPrefix = "pk_", SecretPrefix = "sk_";

    public async Task<IssueApiKeyResult> Handle(IssueApiKeyRequest request, CancellationToken ct)
    {
        var partnerId = request.PartnerId;
        var keyId = $"{KeyPrefix}{partnerId}_{RandomIds.Base32(20)}";
        var secret = SecretPrefix + Base64Url(RandomNumberGenerator.GetBytes(32));
        var sealedSecret = keyRing.Encrypt(Encoding.UTF8.GetBytes(secret), keyId);
        var command = new IssueApiKey(keyId, sealedSecret.KeyId, sealedSecret.BlobBase64, clock.UtcNow, request.MaxActiveKeys);
        var outcome = await partners.ExecuteOn(partnerId, command, request.Metadata, request.IfMatch, eventIdSeed: keyId, ct);
        return new(outcome, outcome.Succeeded ? new IssuedApiKey(keyId, secret) : null);
    }

    /// <summary>The partner id a key id names, or null when it is not shaped like one of ours.</summary>
    public static string? PartnerIdOf(string? keyId)
    {
        if (keyId is null || !keyId.StartsWith(KeyPrefix, StringComparison.Ordinal)) return null;
        var last = keyId.LastIndexOf('_');
        if (last <= KeyPrefix.Length) return null;
        var partnerId = keyId[KeyPrefix.Length..last];
        return Partner.IsValidId(partnerId) ? partnerId : null;
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
