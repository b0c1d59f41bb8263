using System.Text;
using MediatR;
using Steller.Application.Crypto;
using Steller.Application.Pipeline;
using Steller.Application.Time;
using Steller.Application.Webhooks;
using Steller.Infrastructure.Webhooks;

namespace Steller.Projections.Webhooks.ManagingEndpoints;

/// <summary>
/// Endpoint configuration: create (with a new <c>whsec_</c> secret, sealed by the key ring with the endpoint id as context),
/// change, delete, rotate the secret. Every request names its partner: the verified signature's (/v1) or the route's (/admin).
/// </summary>
public sealed record CreateWebhookEndpointRequest(string PartnerId, string? Url, IReadOnlyList<string>? EventTypes, string? Description)
    : IRequest<WebhookResult<WebhookEndpointWithSecret>>;

public sealed record UpdateWebhookEndpointRequest(string PartnerId, string EndpointId, string? Url, IReadOnlyList<string>? EventTypes,
    string? Description, bool? Enabled) : IRequest<WebhookResult<WebhookEndpointView>>;

public sealed record DeleteWebhookEndpointRequest(string PartnerId, string EndpointId) : IRequest<WebhookResult<bool>>;

public sealed record RotateWebhookSecretRequest(string PartnerId, string EndpointId) : IRequest<WebhookResult<WebhookEndpointWithSecret>>;

public sealed record GetWebhookEndpointRequest(string PartnerId, string EndpointId) : IRequest<WebhookResult<WebhookEndpointView>>;

public sealed record ListWebhookEndpointsRequest(string PartnerId) : IRequest<WebhookEndpointList>;

/// <summary>The checks on what a partner may configure (the URL rule depends on <c>Webhooks:AllowPrivateTargets</c>).</summary>
public static class WebhookEndpointRules
{
    public static void Check(FieldErrors errors, string? url, bool urlRequired, IReadOnlyList<string>? eventTypes, bool allowPrivate,
        IReadOnlyList<string> subscribable)
    {
        if (url is null) errors.Check(!urlRequired, "url", "required");
        else if (WebhookTargets.Problem(url, allowPrivate) is { } problem) errors.Check(false, "url", problem);
        if (eventTypes is null) return;
        errors.Check(eventTypes.Count > 0, "eventTypes", "at least one type, or leave it out for every type");
        foreach (var type in eventTypes)
            errors.Check(subscribable.Contains(type, StringComparer.Ordinal), "eventTypes", $"unknown type '{type}'; one of {string.Join(", ", subscribable)}");
    }

    public static void ThrowIfAny(FieldErrors errors)
    {
        if (errors.Any) throw new ValidationFailedException(errors);
    }
}

public sealed class WebhookEndpointHandlers(WebhookStore store, WebhookOptions options, IKeyRing keyRing, IClock clock)
    : IRequestHandler<CreateWebhookEndpointRequest, WebhookResult<WebhookEndpointWithSecret>>,
      IRequestHandler<UpdateWebhookEndpointRequest, WebhookResult<WebhookEndpointView>>,
      IRequestHandler<DeleteWebhookEndpointRequest, WebhookResult<bool>>,
      IRequestHandler<RotateWebhookSecretRequest, WebhookResult<WebhookEndpointWithSecret>>,
      IRequestHandler<GetWebhookEndpointRequest, WebhookResult<WebhookEndpointView>>,
      IRequestHandler<ListWebhookEndpointsRequest, WebhookEndpointList>
{
    public async Task<WebhookResult<WebhookEndpointWithSecret>> Handle(CreateWebhookEndpointRequest request, CancellationToken ct)
    {
        var errors = new FieldErrors();
        WebhookEndpointRules.Check(errors, request.Url, urlRequired: true, request.EventTypes, options.AllowPrivateTargets,
            WebhookTypes.SubscribableBy(request.PartnerId));
        WebhookEndpointRules.ThrowIfAny(errors);
        var id = WebhookIds.NewEndpointId();
        var secret = WebhookSignature.NewSecret();
        var sealedSecret = keyRing.Encrypt(Encoding.UTF8.GetBytes(secret), id);
        var now = clock.UtcNow.UtcDateTime;
        var row = new WebhookEndpointRow
        {
            Id = id, PartnerId = request.PartnerId, Url = request.Url!, EventTypes = request.EventTypes?.Distinct().ToArray(),
            Description = request.Description, Enabled = true, SecretKeyId = sealedSecret.KeyId, Secret = sealedSecret.Blob, CreatedAt = now,
            UpdatedAt = now,
        };
        if (!await store.TryCreate(row, options.MaxEndpointsPerPartner, ct)) return WebhookErrors.LimitReached(options.MaxEndpointsPerPartner);
        return WebhookEndpointWithSecret.Of(row, secret);
    }

    public async Task<WebhookResult<WebhookEndpointView>> Handle(UpdateWebhookEndpointRequest request, CancellationToken ct)
    {
        var errors = new FieldErrors();
        WebhookEndpointRules.Check(errors, request.Url, urlRequired: false, request.EventTypes, options.AllowPrivateTargets,
            WebhookTypes.SubscribableBy(request.PartnerId));
        WebhookEndpointRules.ThrowIfAny(errors);
        if (await store.Get(request.PartnerId, request.EndpointId, ct) is not { } row) return WebhookErrors.EndpointNotFound(request.EndpointId);
        var changed = row with
        {
            Url = request.Url ?? row.Url,
            EventTypes = request.EventTypes?.Distinct().ToArray() ?? row.EventTypes,
            Description = request.Description ?? row.Description,
            Enabled = request.Enabled ?? row.Enabled,
            UpdatedAt = clock.UtcNow.UtcDateTime,
        };
        // Enabling again starts its health afresh (it is not disabled again for the old failures); disabling is its owner's choice.
        if (request.Enabled is { } enabled && enabled != row.Enabled)
            changed = changed with { FailingSince = null, DisabledReason = null };
        return await store.Update(changed, ct) ? WebhookEndpointView.Of(changed) : WebhookErrors.EndpointNotFound(request.EndpointId);
    }

    public async Task<WebhookResult<bool>> Handle(DeleteWebhookEndpointRequest request, CancellationToken ct) =>
        await store.Delete(request.PartnerId, request.EndpointId, ct) ? true : WebhookErrors.EndpointNotFound(request.EndpointId);

    /// <summary>A new secret; the old one keeps signing beside it (a second <c>v1,</c> entry) for <see cref="WebhookOptions.RotationOverlap"/>.</summary>
    public async Task<WebhookResult<WebhookEndpointWithSecret>> Handle(RotateWebhookSecretRequest request, CancellationToken ct)
    {
        if (await store.Get(request.PartnerId, request.EndpointId, ct) is not { } row) return WebhookErrors.EndpointNotFound(request.EndpointId);
        var secret = WebhookSignature.NewSecret();
        var sealedSecret = keyRing.Encrypt(Encoding.UTF8.GetBytes(secret), row.Id);
        var now = clock.UtcNow;
        var rotated = row with
        {
            SecretKeyId = sealedSecret.KeyId, Secret = sealedSecret.Blob, PreviousKeyId = row.SecretKeyId, PreviousSecret = row.Secret,
            PreviousUntil = (now + options.RotationOverlap).UtcDateTime, UpdatedAt = now.UtcDateTime,
        };
        return await store.Update(rotated, ct)
            ? WebhookEndpointWithSecret.Of(rotated, secret)
            : WebhookErrors.EndpointNotFound(request.EndpointId);
    }

    public async Task<WebhookResult<WebhookEndpointView>> Handle(GetWebhookEndpointRequest request, CancellationToken ct) =>
        await store.Get(request.PartnerId, request.EndpointId, ct) is { } row
            ? WebhookEndpointView.Of(row)
            : WebhookErrors.EndpointNotFound(request.EndpointId);

    public async Task<WebhookEndpointList> Handle(ListWebhookEndpointsRequest request, CancellationToken ct) =>
        new((await store.List(request.PartnerId, ct)).Select(WebhookEndpointView.Of).ToList());
}
