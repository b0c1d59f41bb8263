using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Steller.Application.Webhooks;

namespace Steller.Api.Webhooks;

/// <summary>
/// Lists the messages Steller sends to partner endpoints in the OpenAPI document's <c>webhooks</c> section (OpenAPI 3.1): one
/// entry per type, a POST with the Standard Webhooks headers and the <c>{type, timestamp, data}</c> body (docs/webhooks.md).
/// </summary>
public static class WebhookOpenApi
{
    private static readonly Dictionary<string, string> Descriptions = new(StringComparer.Ordinal)
    {
        [WebhookTypes.OrderCompleted] = "An order completed: every unit delivered. data: the order as GET /v1/orders/{id} shows it at that "
                                        + "event (codes and PINs null) with its stream revision.",
        [WebhookTypes.OrderPartiallyCompleted] = "An order completed with some units delivered. data: the order, as for order.completed.",
        [WebhookTypes.OrderFailed] = "Nothing was delivered; the hold was released. data: the order.",
        [WebhookTypes.OrderCancelled] = "The order was cancelled before fulfilment. data: the order.",
        [WebhookTypes.OrderRejected] = "The order was refused at placement. data: the order.",
        [WebhookTypes.OrderRefunded] = "Money was given back for a completed order. data: the order.",
        [WebhookTypes.WalletDeposited] = "Funds were credited to a wallet. data: partnerId, currency, transferId, amount (minor units), reference, revision.",
        [WebhookTypes.WalletLowBalance] = "The wallet's available balance went below the partner's threshold (once per crossing). "
                                          + "data: partnerId, currency, available, threshold, revision.",
        [WebhookTypes.Test] = "Sent by POST /v1/webhook-endpoints/{id}/test. data: endpointId.",
        [WebhookTypes.AlertOpened] = "To admin endpoints (/admin/webhook-endpoints) only: an operational alert opened (docs/alerts.md). "
                                     + "data: alertId, kind, subject, details, openedAt, revision.",
        [WebhookTypes.AlertClosed] = "To admin endpoints only: the alert's cause is gone. data: alertId, kind, subject, reason, closedAt, revision. "
                                     + "One alert's messages arrive in order (opened before closed).",
    };

    public static void Configure(OpenApiOptions options) => options.AddDocumentTransformer((document, _, _) =>
    {
        document.Webhooks ??= new Dictionary<string, IOpenApiPathItem>();
        foreach (var (type, description) in Descriptions)
            document.Webhooks[type] = new OpenApiPathItem
            {
                Operations = new Dictionary<HttpMethod, OpenApiOperation>
                {
                    [HttpMethod.Post] = new()
                    {
                        OperationId = "webhook " + type,
                        Summary = type,
                        Description = description + " Signed per Standard Webhooks; retried on anything but 2xx (docs/webhooks.md).",
                        Tags = new HashSet<OpenApiTagReference> { new("Webhooks") },
                        Parameters =
                        [
                            Header("webhook-id", "msg_ + 26 base32 characters, derived from (event, endpoint): the same on every retry, resend and replay."),
                            Header("webhook-timestamp", "Unix seconds of this attempt."),
                            Header("webhook-signature", "v1,<base64 HMAC-SHA256 of {id}.{timestamp}.{body}>; two space-separated entries during a rotation."),
                        ],
                        RequestBody = new OpenApiRequestBody
                        {
                            Required = true,
                            Content = new Dictionary<string, OpenApiMediaType>
                            {
                                ["application/json"] = new() { Schema = Body(type) },
                            },
                        },
                        Responses = new OpenApiResponses
                        {
                            ["2XX"] = new OpenApiResponse { Description = "Received; any other answer (or none within 15 s) is retried." },
                        },
                    },
                },
            };
        return Task.CompletedTask;
    });

    private static OpenApiParameter Header(string name, string description) => new()
    {
        Name = name, In = ParameterLocation.Header, Required = true, Description = description,
        Schema = new OpenApiSchema { Type = JsonSchemaType.String },
    };

    private static OpenApiSchema Body(string type) => new()
    {
        Type = JsonSchemaType.Object,
        Required = new HashSet<string> { "type", "timestamp", "data" },
        Properties = new Dictionary<string, IOpenApiSchema>
        {
            ["type"] = new OpenApiSchema { Type = JsonSchemaType.String, Const = type },
            ["timestamp"] = new OpenApiSchema { Type = JsonSchemaType.String, Format = "date-time" },
            ["data"] = new OpenApiSchema { Type = JsonSchemaType.Object },
        },
    };
}
