using System.Text.Json;
using MediatR;
using Steller.Application.Pipeline;
using Steller.Infrastructure.Webhooks;

namespace Steller.Projections.Webhooks.ReadingDeliveries;

/// <summary>
/// The delivery log of one endpoint, oldest first, cursor-paginated: each message with its status (pending, delivered,
/// failed), when it is next due, its payload and every attempt (time, HTTP status or error, latency, the first 1 KB of the answer).
/// </summary>
public sealed record ListWebhookMessagesRequest(string PartnerId, string EndpointId, string? Status, string? Type, string? After, int? Limit)
    : IRequest<WebhookResult<WebhookMessagePage>>, IValidated
{
    public static readonly string[] Statuses = ["pending", "delivered", "failed"];

    public void Validate(FieldErrors errors)
    {
        errors.Check(Status is null || Statuses.Contains(Status), "status", "one of pending, delivered, failed");
        errors.Check(After is null || long.TryParse(After, out var a) && a >= 0, "after", "a cursor from a previous page's next");
        errors.Check(Limit is null or >= 1 and <= 200, "limit", "between 1 and 200");
    }
}

public sealed class ListWebhookMessagesHandler(WebhookStore store) : IRequestHandler<ListWebhookMessagesRequest, WebhookResult<WebhookMessagePage>>
{
    public async Task<WebhookResult<WebhookMessagePage>> Handle(ListWebhookMessagesRequest request, CancellationToken ct)
    {
        if (await store.Get(request.PartnerId, request.EndpointId, ct) is null) return WebhookErrors.EndpointNotFound(request.EndpointId);
        var limit = request.Limit ?? 50;
        var (messages, attempts) = await store.Messages(request.EndpointId, request.Status, request.Type,
            request.After is null ? 0 : long.Parse(request.After), limit, ct);
        var byMessage = attempts.ToLookup(a => a.MessageId);
        var items = messages.Select(m => new WebhookMessageView(m.Id, m.Type, m.EventId, WebhookEndpointView.Utc(m.CreatedAt), m.Status, m.Attempts,
                m.Status == "pending" && m.NextAttemptAt is { } next ? WebhookEndpointView.Utc(next) : null,
                JsonDocument.Parse(m.Body).RootElement.Clone(),
                byMessage[m.Id].Select(a => new WebhookAttemptView(WebhookEndpointView.Utc(a.At), a.Status, a.Error, a.LatencyMs, a.Response)).ToList()))
            .ToList();
        return new WebhookMessagePage(items, messages.Count == limit ? messages[^1].Seq.ToString() : null);
    }
}
