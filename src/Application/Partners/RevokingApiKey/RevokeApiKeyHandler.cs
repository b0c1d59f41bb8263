using MediatR;
using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Application.Time;
using Steller.Domain.Partners;

namespace Steller.Application.Partners.RevokingApiKey;

/// <param name="SigningKeyId">The key that signed the partner's own request (self-service); it cannot revoke itself. Null for an admin.</param>
public sealed record RevokeApiKeyRequest(string PartnerId, string KeyId, string? Reason, EventMetadata Metadata, long? IfMatch = null,
    string? SigningKeyId = null)
    : IRequest<CommandOutcome<Partner>>;

/// <summary>Revokes a key; requests signed with it are refused from the next request on (keys are resolved from the stream).</summary>
public sealed class RevokeApiKeyHandler(AggregateCommands<Partner, IPartnerCommand, IPartnerEvent> partners, IClock clock)
    : IRequestHandler<RevokeApiKeyRequest, CommandOutcome<Partner>>
{
    public Task<CommandOutcome<Partner>> Handle(RevokeApiKeyRequest request, CancellationToken ct) =>
        partners.ExecuteOn(request.PartnerId, new RevokeApiKey(request.KeyId, request.Reason, clock.UtcNow, request.SigningKeyId), request.Metadata,
            request.IfMatch, eventIdSeed: $"revoke|{request.KeyId}", ct);
}
