using MediatR;
using Steller.Application.EventStore;
using Steller.Application.Pipeline;
using Steller.Application.Time;
using Steller.Application.Webhooks;
using Steller.Infrastructure.Webhooks;

namespace Steller.Projections.Webhooks.Redelivering;

/// <summary>Sends one stored message again (a new round of attempts, same webhook-id).</summary>
public sealed record ResendWebhookMessageRequest(string PartnerId, string EndpointId, string MessageId) : IRequest<WebhookResult<WebhookMessageCreated>>;

/// <summary>Sends again every message of the endpoint that failed for good since <see cref="Since"/>.</summary>
public sealed record RecoverWebhookMessagesRequest(string PartnerId, string EndpointId, DateTimeOffset? Since)
    : IRequest<WebhookResult<WebhookRedelivery>>, IValidated
{
    public void Validate(FieldErrors errors) => errors.Check(Since is not null, "since", "required");
}

/// <summary>
/// Delivers again, from the event log, every message of the endpoint's types whose event was recorded in [since, until):
/// the same webhook-ids and bodies as the first time, whether or not they were delivered (or created) before.
/// </summary>
public sealed record ReplayWebhookMessagesRequest(string PartnerId, string EndpointId, DateTimeOffset? Since, DateTimeOffset? Until)
    : IRequest<WebhookResult<WebhookRedelivery>>, IValidated
{
    public void Validate(FieldErrors errors)
    {
        errors.Check(Since is not null, "since", "required");
        errors.Check(Since is null || Until is null || Until > Since, "until", "after since");
    }
}

/// <summary>One <c>webhook.test</c> message to the endpoint.</summary>
public sealed record SendWebhookTestRequest(string PartnerId, string EndpointId) : IRequest<WebhookResult<WebhookMessageCreated>>;

public sealed class WebhookRedeliveryHandlers(WebhookStore store, WebhookEvents events, IEventStore log, IClock clock, WebhookSignal signal)
    : IRequestHandler<ResendWebhookMessageRequest, WebhookResult<WebhookMessageCreated>>,
      IRequestHandler<RecoverWebhookMessagesRequest, WebhookResult<WebhookRedelivery>>,
      IRequestHandler<ReplayWebhookMessagesRequest, WebhookResult<WebhookRedelivery>>,
      IRequestHandler<SendWebhookTestRequest, WebhookResult<WebhookMessageCreated>>
{
    private const int PageSize = 1000;

    public async Task<WebhookResult<WebhookMessageCreated>> Handle(ResendWebhookMessageRequest request, CancellationToken ct)
    {
        if (await store.Get(request.PartnerId, request.EndpointId, ct) is null) return WebhookErrors.EndpointNotFound(request.EndpointId);
        if (!await store.Resend(request.EndpointId, request.MessageId, clock.UtcNow, ct)) return WebhookErrors.MessageNotFound(request.MessageId);
        signal.Wake();
        return new WebhookMessageCreated(request.MessageId);
    }

    public async Task<WebhookResult<WebhookRedelivery>> Handle(RecoverWebhookMessagesRequest request, CancellationToken ct)
    {
        if (await store.Get(request.PartnerId, request.EndpointId, ct) is null) return WebhookErrors.EndpointNotFound(request.EndpointId);
        var count = await store.Recover(request.EndpointId, request.Since!.Value, clock.UtcNow, ct);
        signal.Wake();
        return new WebhookRedelivery(count);
    }

    /// <summary>Reads the whole log once (in pages), keeping the events of the window that concern this endpoint.</summary>
    public async Task<WebhookResult<WebhookRedelivery>> Handle(ReplayWebhookMessagesRequest request, CancellationToken ct)
    {
        if (await store.Get(request.PartnerId, request.EndpointId, ct) is not { } endpoint) return WebhookErrors.EndpointNotFound(request.EndpointId);
        var since = request.Since!.Value;
        var until = request.Until ?? DateTimeOffset.MaxValue;
        var messages = new List<NewWebhookMessage>();
        var after = LogPosition.Start;
        while (true)
        {
            var page = await log.ReadAll(after, PageSize, ct);
            if (page.Count == 0) break;
            after = page[^1].Position;
            foreach (var e in page)
            {
                if (!events.EventTypes.Contains(e.Type) || e.Metadata.RecordedAt >= until) continue;
                if (WebhookEvents.PartnerOfStream(e.StreamId) is { } owner && owner != endpoint.PartnerId) continue;
                // Wallet events before the window still pass through (they keep the low-balance comparison folding in step).
                if (e.Metadata.RecordedAt < since && WebhookEvents.PartnerOfStream(e.StreamId) is null) continue;
                var inWindow = e.Metadata.RecordedAt >= since;
                if (await events.Describe(e, ct) is { } described && inWindow && described.Concerns(endpoint)) messages.Add(described.For(endpoint));
            }
            if (page.Count < PageSize) break;
        }
        var count = await store.AddOrRedeliver(messages, clock.UtcNow, ct);
        signal.Wake();
        return new WebhookRedelivery(count);
    }

    public async Task<WebhookResult<WebhookMessageCreated>> Handle(SendWebhookTestRequest request, CancellationToken ct)
    {
        if (await store.Get(request.PartnerId, request.EndpointId, ct) is null) return WebhookErrors.EndpointNotFound(request.EndpointId);
        var now = clock.UtcNow;
        var id = WebhookIds.NewTestMessageId();
        await store.Add([new NewWebhookMessage(id, request.EndpointId, request.PartnerId, null, WebhookTypes.Test, null, 0,
            WebhookEvents.TestBody(request.EndpointId, now), now)], now, ct);
        signal.Wake();
        return new WebhookMessageCreated(id);
    }
}
