using MediatR;
using Steller.Application.Commands;
using Steller.Application.Partners.AuthenticatingRequests;
using Steller.Domain.Partners;

namespace Steller.Application.Partners.ListingApiKeys;

/// <summary>One key as its partner sees it: never the secret, nor its ciphertext.</summary>
/// <param name="Status">"active" or "revoked".</param>
/// <param name="LastUsedAt">When the key last signed an accepted request (coalesced: up to a few seconds late across nodes).</param>
public sealed record ApiKeySummary(string KeyId, string Status, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt,
    DateTimeOffset? RevokedAt);

public sealed record ApiKeyList(IReadOnlyList<ApiKeySummary> Items, int ActiveCount, int MaxActive);

/// <summary>The partner's API keys, oldest first; null when there is no such partner.</summary>
public sealed record ListApiKeysRequest(string PartnerId, int MaxActive) : IRequest<ApiKeyList?>;

public sealed class ListApiKeysHandler(AggregateCommands<Partner, IPartnerCommand, IPartnerEvent> partners, IApiKeyUsage usage)
    : IRequestHandler<ListApiKeysRequest, ApiKeyList?>
{
    public async Task<ApiKeyList?> Handle(ListApiKeysRequest request, CancellationToken ct)
    {
        var (partner, _) = await partners.LoadPartner(request.PartnerId, ct);
        if (!partner.Exists) return null;
        var lastUsed = await usage.LastUsed(request.PartnerId, ct);
        var items = partner.ApiKeys.Values
            .OrderBy(k => k.IssuedAt).ThenBy(k => k.KeyId, StringComparer.Ordinal)
            .Select(k => new ApiKeySummary(k.KeyId, k.Revoked ? "revoked" : "active", k.IssuedAt,
                lastUsed.TryGetValue(k.KeyId, out var at) ? at : null, k.RevokedAt))
            .ToList();
        return new ApiKeyList(items, partner.ActiveKeyCount, request.MaxActive);
    }
}
