using MediatR;
using Steller.Api.Http;
using Steller.Application.EventStore;
using Steller.Application.Partners.IssuingApiKey;
using Steller.Application.Partners.ListingApiKeys;
using Steller.Application.Partners.RevokingApiKey;
using Steller.Application.Partners.ViewingPartner;
using Steller.Application.Time;
using Steller.Domain.Partners;
using Steller.Infrastructure.Configuration;

namespace Steller.Api.Partners;

/// <summary>
/// A partner's own API keys over the signed /v1 API: list (never a secret), create (the secret is in that response only;
/// at most Partners:MaxActiveKeys active keys), revoke (never the key that signs the request). Creations and revocations
/// are audited with the admin commands (actor partner:&lt;id&gt;, the signing key id); the events carry actor partner:&lt;id&gt;.
/// </summary>
public sealed class PartnerKeyEndpoints(StellerSettings settings) : IEndpointModule
{
    public sealed record CreatedApiKey(string KeyId, string Secret, DateTimeOffset CreatedAt);
    public sealed record RevokeOwnKeyBody(string? Reason);

    public static readonly ErrorStatuses Statuses = new ErrorStatuses(fallback: 400)
        .With(404, "partner_not_found", "api_key_not_found")
        .With(409, "api_key_exists", "partner_suspended", "too_many_api_keys", "cannot_revoke_current_key");

    public void Map(IEndpointRouteBuilder app)
    {
        var keys = app.MapGroup("/v1/api-keys").WithTags("Partner API");
        var max = settings.Partners.MaxActiveKeys;

        keys.MapGet("/", async (AuthenticatedPartner partner, IMediator mediator, CancellationToken ct) =>
                await mediator.Send(new ListApiKeysRequest(partner.PartnerId, max), ct) is { } list
                    ? Results.Ok(list) : Outcomes.Problem(PartnerErrors.NotFound, Statuses))
            .WithSummary("The calling partner's API keys: id, status, created, last used (written every few seconds, so it may lag "
                         + "by that much), revoked. Never a secret.")
            .Produces<ApiKeyList>()
            .ProducesProblem(401);

        keys.MapPost("/", async (AuthenticatedPartner partner, IMediator mediator, HttpContext http, IClock clock, CancellationToken ct) =>
            {
                var issued = await mediator.Send(new IssueApiKeyRequest(partner.PartnerId, Metadata(http, partner, clock),
                    MaxActiveKeys: max), ct);
                if (issued.Key is not { } key) return Outcomes.Problem(http, issued.Outcome, Statuses);
                var createdAt = issued.Outcome.State.ApiKeys[key.KeyId].IssuedAt;
                return Results.Created($"/v1/api-keys/{key.KeyId}", new CreatedApiKey(key.KeyId, key.Secret, createdAt));
            })
            .WithSummary($"Create an API key. The secret is in this response only: it is stored encrypted and never shown again. At most "
                         + $"{max} active keys (409 too_many_api_keys: revoke one first).")
            .Produces<CreatedApiKey>(201)
            .ProducesProblem(401).ProducesProblem(409);

        keys.MapPost("/{keyId}/revoke", async (string keyId, RevokeOwnKeyBody? body, AuthenticatedPartner partner, IMediator mediator,
                HttpContext http, IClock clock, CancellationToken ct) =>
            {
                var outcome = await mediator.Send(new RevokeApiKeyRequest(partner.PartnerId, keyId, body?.Reason,
                    Metadata(http, partner, clock), SigningKeyId: partner.KeyId), ct);
                if (outcome.Error is not null) return Outcomes.Problem(http, outcome, Statuses);
                var key = outcome.State.ApiKeys[keyId];
                return Results.Ok(new ApiKeySummary(key.KeyId, "revoked", key.IssuedAt, null, key.RevokedAt));
            })
            .WithSummary("Revoke one of the calling partner's API keys; requests signed with it are refused from the next one on. The key "
                         + "signing this request cannot revoke itself (409 cannot_revoke_current_key).")
            .Produces<ApiKeySummary>()
            .ProducesProblem(401).ProducesProblem(404).ProducesProblem(409);
    }

    private static EventMetadata Metadata(HttpContext http, AuthenticatedPartner partner, IClock clock)
    {
        var correlation = Correlation.Of(http);
        return new EventMetadata(correlation, correlation, Guid.NewGuid(), $"partner:{partner.PartnerId}", clock.UtcNow);
    }
}
