using Steller.Domain.Partners;

namespace Steller.Application.Partners.RevokingApiKey;

/// <summary>Revokes a key; requests signed with it are refused from the next request on (keys are resolved from the stream).</summary>
public sealed class RevokeApiKeyHandler(PartnerStreams partners)
{
    public Task<PartnerOutcome> Handle(string partnerId, string keyId, string? reason, CommandContext context, CancellationToken ct = default) =>
        partners.Execute(partnerId, s => Partner.Decide(new RevokeApiKey(keyId, reason, partners.Clock.UtcNow), s), context, eventIdSeed: $"revoke|{keyId}", ct);
}
