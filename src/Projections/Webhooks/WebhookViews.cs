using System.Text.Json;
using Steller.Application.Pipeline;
using Steller.Domain;
using Steller.Infrastructure.Webhooks;

namespace Steller.Projections.Webhooks;

/// <summary>An endpoint as a partner sees it (never its secret, which is shown once: on creation and on rotation).</summary>
/// <param name="DisabledReason">"failing": Steller disabled it after every attempt failed for Webhooks:DisableAfterFailingDays.</param>
/// <param name="FailingSince">The first failed attempt since its last success; null while it succeeds.</param>
public sealed record WebhookEndpointView(string Id, string Url, IReadOnlyList<string>? EventTypes, string? Description, string Status,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, DateTimeOffset? PreviousSecretValidUntil, string? DisabledReason = null,
    DateTimeOffset? FailingSince = null)
{
    public static WebhookEndpointView Of(WebhookEndpointRow e) =>
        new(e.Id, e.Url, e.EventTypes, e.Description, e.Enabled ? "enabled" : "disabled", Utc(e.CreatedAt), Utc(e.UpdatedAt),
            e.PreviousUntil is { } until ? Utc(until) : null, e.DisabledReason, e.FailingSince is { } f ? Utc(f) : null);

    internal static DateTimeOffset Utc(DateTime t) => new(DateTime.SpecifyKind(t, DateTimeKind.Utc));
}

public sealed record WebhookEndpointList(IReadOnlyList<WebhookEndpointView> Items);

/// <summary>A new endpoint, or a rotated secret: the only answers that carry the secret.</summary>
public sealed record WebhookEndpointWithSecret(string Id, string Url, IReadOnlyList<string>? EventTypes, string? Description, string Status,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, DateTimeOffset? PreviousSecretValidUntil, string Secret)
{
    public static WebhookEndpointWithSecret Of(WebhookEndpointRow row, string secret)
    {
        var v = WebhookEndpointView.Of(row);
        return new(v.Id, v.Url, v.EventTypes, v.Description, v.Status, v.CreatedAt, v.UpdatedAt, v.PreviousSecretValidUntil, secret);
    }
}

public sealed record WebhookAttemptView(DateTimeOffset At, int? HttpStatus, string? Error, double LatencyMs, string? Response);

public sealed record WebhookMessageView(string Id, string Type, Guid? EventId, DateTimeOffset CreatedAt, string Status, int Attempts,
    DateTimeOffset? NextAttemptAt, JsonElement Payload, IReadOnlyList<WebhookAttemptView> AttemptLog);

public sealed record WebhookMessagePage(IReadOnlyList<WebhookMessageView> Items, string? Next);

/// <summary>How many messages a recover or a replay put back to pending (or created).</summary>
public sealed record WebhookRedelivery(int Messages);

public sealed record WebhookMessageCreated(string MessageId);

/// <summary>The answer of a webhook use case: the value, or the refusal.</summary>
public sealed record WebhookResult<T>(T? Value, DomainError? Error) : IRefusable
{
    public static implicit operator WebhookResult<T>(T value) => new(value, null);
    public static implicit operator WebhookResult<T>(DomainError error) => new(default, error);
}

public static class WebhookErrors
{
    public static DomainError EndpointNotFound(string id) => new("webhook_endpoint_not_found", $"No webhook endpoint {id}.");
    public static DomainError MessageNotFound(string id) => new("webhook_message_not_found", $"No webhook message {id} on this endpoint.");
    public static DomainError LimitReached(int max) =>
        new("webhook_endpoint_limit_reached", $"A partner has at most {max} webhook endpoints; delete one first.");
}
