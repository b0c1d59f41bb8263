using MediatR;
using Steller.Api.Admin;
using Steller.Api.Http;
using Steller.Api.Partners;
using Steller.Application.Partners.ViewingPartner;
using Steller.Infrastructure.Admin;
using Steller.Projections.Webhooks;
using Steller.Projections.Webhooks.ManagingEndpoints;
using Steller.Projections.Webhooks.ReadingDeliveries;
using Steller.Projections.Webhooks.Redelivering;

namespace Steller.Api.Webhooks;

public sealed record CreateWebhookEndpointBody(string? Url, IReadOnlyList<string>? EventTypes, string? Description);
public sealed record UpdateWebhookEndpointBody(string? Url, IReadOnlyList<string>? EventTypes, string? Description, bool? Enabled);
public sealed record RecoverWebhookMessagesBody(DateTimeOffset? Since);
public sealed record ReplayWebhookMessagesBody(DateTimeOffset? Since, DateTimeOffset? Until);

/// <summary>
/// Webhook endpoints and their delivery logs (docs/webhooks.md): a partner's own under the signed <c>/v1/webhook-endpoints</c>,
/// and any partner's under <c>/admin/partners/{partnerId}/webhook-endpoints</c>: the same routes and use cases; only where the
/// partner id comes from differs (the verified signature, or the route). Another partner's endpoint is 404, as if it did not exist.
/// </summary>
public sealed class WebhookEndpointRoutes : IEndpointModule
{
    public static readonly ErrorStatuses Statuses = new ErrorStatuses()
        .With(404, WebhookErrors.EndpointNotFound("").Code, WebhookErrors.MessageNotFound("").Code, "partner_not_found")
        .With(409, WebhookErrors.LimitReached(0).Code);

    public void Map(IEndpointRouteBuilder app)
    {
        MapRoutes(app.MapGroup("/v1/webhook-endpoints").WithTags("Webhooks"), http => AuthenticatedPartner.Of(http)!.PartnerId, "", 401);
        var admin = AdminEndpoints.Group(app).MapGroup("/partners/{partnerId}/webhook-endpoints").WithTags("Webhooks (admin)")
            .AddEndpointFilter(PartnerMustExist)
            .RequireRoles(AdminRoles.Support);
        MapRoutes(admin, http => http.GetRouteValue("partnerId") as string ?? "", "Admin", 403);
        // The admins' own endpoints: operational alerts (alert.opened, alert.closed) by the same machinery. Role admin only.
        var alerting = AdminEndpoints.Group(app).MapGroup("/webhook-endpoints").WithTags("Webhooks (admin alerts)");
        MapRoutes(alerting, _ => Steller.Application.Webhooks.WebhookOwners.Admin, "AdminAlert", 403, admin: true);
    }

    private static void MapRoutes(RouteGroupBuilder group, Func<HttpContext, string> partnerOf, string names, int authStatus, bool admin = false)
    {
        var roles = admin ? " Admin endpoints receive alert.opened and alert.closed. Role: admin." : names == "" ? "" : " Roles: admin, support.";
        group.MapPost("/", async (CreateWebhookEndpointBody body, HttpContext http, IMediator mediator, CancellationToken ct) =>
            {
                var result = await mediator.Send(new CreateWebhookEndpointRequest(partnerOf(http), body.Url, body.EventTypes, body.Description), ct);
                return result.Error is { } error ? Outcomes.Problem(error, Statuses)
                    : Results.Created($"{http.Request.Path.Value!.TrimEnd('/')}/{result.Value!.Id}", result.Value);
            })
            .WithName(names + "CreateWebhookEndpoint")
            .WithSummary("Registers a webhook endpoint (at most 10 per partner). The answer carries the signing secret (whsec_...), "
                         + "shown only here and on rotation. eventTypes left out: every type." + roles)
            .Produces<WebhookEndpointWithSecret>(201)
            .ProducesProblem(400).ProducesProblem(authStatus).ProducesProblem(409);

        group.MapGet("/", async (HttpContext http, IMediator mediator, CancellationToken ct) =>
                Results.Ok(await mediator.Send(new ListWebhookEndpointsRequest(partnerOf(http)), ct)))
            .WithName(names + "ListWebhookEndpoints")
            .WithSummary("The partner's webhook endpoints (never their secrets)." + roles)
            .Produces<WebhookEndpointList>()
            .ProducesProblem(authStatus);

        group.MapGet("/{endpointId}", async (string endpointId, HttpContext http, IMediator mediator, CancellationToken ct) =>
                Answer(await mediator.Send(new GetWebhookEndpointRequest(partnerOf(http), endpointId), ct)))
            .WithName(names + "GetWebhookEndpoint")
            .WithSummary("One webhook endpoint." + roles)
            .Produces<WebhookEndpointView>()
            .ProducesProblem(authStatus).ProducesProblem(404);

        group.MapPatch("/{endpointId}", async (string endpointId, UpdateWebhookEndpointBody body, HttpContext http, IMediator mediator,
                    CancellationToken ct) =>
                Answer(await mediator.Send(new UpdateWebhookEndpointRequest(partnerOf(http), endpointId, body.Url, body.EventTypes,
                    body.Description, body.Enabled), ct)))
            .WithName(names + "UpdateWebhookEndpoint")
            .WithSummary("Changes an endpoint's url, eventTypes, description or enabled (fields left out stay). A disabled endpoint gets "
                         + "no new messages; recover or replay fills the gap after enabling it again." + roles)
            .Produces<WebhookEndpointView>()
            .ProducesProblem(400).ProducesProblem(authStatus).ProducesProblem(404);

        group.MapDelete("/{endpointId}", async (string endpointId, HttpContext http, IMediator mediator, CancellationToken ct) =>
            {
                var result = await mediator.Send(new DeleteWebhookEndpointRequest(partnerOf(http), endpointId), ct);
                return result.Error is { } error ? Outcomes.Problem(error, Statuses) : Results.NoContent();
            })
            .WithName(names + "DeleteWebhookEndpoint")
            .WithSummary("Deletes an endpoint with its messages and delivery log." + roles)
            .Produces(204)
            .ProducesProblem(authStatus).ProducesProblem(404);

        group.MapPost("/{endpointId}/rotate-secret", async (string endpointId, HttpContext http, IMediator mediator, CancellationToken ct) =>
                Answer(await mediator.Send(new RotateWebhookSecretRequest(partnerOf(http), endpointId), ct)))
            .WithName(names + "RotateWebhookSecret")
            .WithSummary("A new signing secret; for 24 hours every delivery carries both signatures (space-separated v1 entries)." + roles)
            .Produces<WebhookEndpointWithSecret>()
            .ProducesProblem(authStatus).ProducesProblem(404);

        group.MapPost("/{endpointId}/test", async (string endpointId, HttpContext http, IMediator mediator, CancellationToken ct) =>
                Accepted(await mediator.Send(new SendWebhookTestRequest(partnerOf(http), endpointId), ct)))
            .WithName(names + "SendWebhookTest")
            .WithSummary("Sends one webhook.test message to the endpoint." + roles)
            .Produces<WebhookMessageCreated>(202)
            .ProducesProblem(authStatus).ProducesProblem(404);

        group.MapGet("/{endpointId}/messages", async (string endpointId, string? status, string? type, string? after, string? limit,
                    HttpContext http, IMediator mediator, CancellationToken ct) =>
            {
                int? parsedLimit = int.TryParse(limit, out var l) ? l : limit is null ? null : -1;
                return Answer(await mediator.Send(new ListWebhookMessagesRequest(partnerOf(http), endpointId, status, type, after, parsedLimit), ct));
            })
            .WithName(names + "ListWebhookMessages")
            .WithSummary("The endpoint's delivery log, oldest first, cursor-paginated (limit 1-200, after = the previous page's next): "
                         + "each message with its status (pending, delivered, failed), next attempt, payload and every attempt." + roles)
            .Produces<WebhookMessagePage>()
            .ProducesProblem(400).ProducesProblem(authStatus).ProducesProblem(404);

        group.MapPost("/{endpointId}/messages/{messageId}/resend", async (string endpointId, string messageId, HttpContext http,
                    IMediator mediator, CancellationToken ct) =>
                Accepted(await mediator.Send(new ResendWebhookMessageRequest(partnerOf(http), endpointId, messageId), ct)))
            .WithName(names + "ResendWebhookMessage")
            .WithSummary("Delivers one message again (a new round of attempts, the same webhook-id)." + roles)
            .Produces<WebhookMessageCreated>(202)
            .ProducesProblem(authStatus).ProducesProblem(404);

        group.MapPost("/{endpointId}/recover", async (string endpointId, RecoverWebhookMessagesBody body, HttpContext http, IMediator mediator,
                    CancellationToken ct) =>
                Accepted(await mediator.Send(new RecoverWebhookMessagesRequest(partnerOf(http), endpointId, body.Since), ct)))
            .WithName(names + "RecoverWebhookMessages")
            .WithSummary("Delivers again every message of the endpoint that failed for good since `since`." + roles)
            .Produces<WebhookRedelivery>(202)
            .ProducesProblem(400).ProducesProblem(authStatus).ProducesProblem(404);

        group.MapPost("/{endpointId}/replay", async (string endpointId, ReplayWebhookMessagesBody body, HttpContext http, IMediator mediator,
                    CancellationToken ct) =>
                Accepted(await mediator.Send(new ReplayWebhookMessagesRequest(partnerOf(http), endpointId, body.Since, body.Until), ct)))
            .WithName(names + "ReplayWebhookMessages")
            .WithSummary("Delivers again, derived from the event log, every message of the endpoint's types whose event was recorded "
                         + "in [since, until) (until left out: up to now), with the same webhook-ids and bodies as the first time." + roles)
            .Produces<WebhookRedelivery>(202)
            .ProducesProblem(400).ProducesProblem(authStatus).ProducesProblem(404);
    }

    private static IResult Answer<T>(WebhookResult<T> result) =>
        result.Error is { } error ? Outcomes.Problem(error, Statuses) : Results.Ok(result.Value);

    private static IResult Accepted<T>(WebhookResult<T> result) =>
        result.Error is { } error ? Outcomes.Problem(error, Statuses) : Results.Json(result.Value, statusCode: 202);

    /// <summary>The admin mirror answers 404 partner_not_found for a partner that was never onboarded.</summary>
    private static async ValueTask<object?> PartnerMustExist(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var partnerId = http.GetRouteValue("partnerId") as string ?? "";
        var mediator = http.RequestServices.GetRequiredService<IMediator>();
        if (await mediator.Send(new GetPartnerRequest(partnerId), http.RequestAborted) is null)
            return Problems.Result(404, "partner_not_found", $"No partner {partnerId}.");
        return await next(context);
    }
}
