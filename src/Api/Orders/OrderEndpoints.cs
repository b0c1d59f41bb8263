using Steller.Application.Pipeline;
using System.Text.RegularExpressions;
using Steller.Application.Commands;
using Steller.Api.Admin;
using Steller.Api.Http;
using Steller.Api.Partners;
using Steller.Application.EventStore;
using Steller.Application.Orders;
using Steller.Application.Orders.Cancelling;
using Steller.Application.Orders.Fulfilling;
using Steller.Application.Orders.PlacingOrder;
using Steller.Application.Orders.Refunding;
using Steller.Application.Orders.Retrying;
using Steller.Application.Time;
using Steller.Domain;
using Steller.Domain.Inventory;
using Steller.Domain.Orders;
using Steller.Infrastructure.Admin;
using Steller.Projections.Orders;
using Steller.Projections.Wallets;

namespace Steller.Api.Orders;

/// <summary>
/// Orders: the signed partner API (place, read one) and the admin API (read, cancel, push fulfilment, refund).
/// POST /v1/orders is idempotent by clientReference per partner: the same body answers the same placement, another
/// body under a used reference is 409 idempotency_conflict.
/// </summary>
public sealed partial class OrderEndpoints : IEndpointModule
{
    public sealed record LineRequest(string? Sku, int? Quantity, long? FaceValue);
    public sealed record RecipientRequest(string? Phone, string? Email);
    public sealed record PlaceRequest(string? ClientReference, IReadOnlyList<LineRequest?>? Lines, RecipientRequest? Recipient);
    public sealed record CancelRequest(string? Reason);
    public sealed record RetryRequest(string? Reason);
    public sealed record RefundRequest(string? RefundId, long? Amount, string? Reason);

    public const int MaxLines = 50, MaxQuantity = 100;
    private const string ReferenceRule = "required: 1–100 characters of letters, digits, '_', '-', '.', ':'";

    [GeneratedRegex(@"^\+[1-9][0-9]{6,14}$")] private static partial Regex E164();
    [GeneratedRegex(@"^[^@\s]{1,64}@[^@\s]{1,255}$")] private static partial Regex Email();

    public void Map(IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup("/v1/orders").WithTags("Partner API");

        v1.MapPost("/", async (PlaceRequest body, AuthenticatedPartner partner, HttpContext http, PlaceOrderHandler handler, IClock clock, CancellationToken ct) =>
        {
            var errors = Validate(body);
            if (errors.Any) return errors.Problem();
            var request = new PlaceOrderRequest(partner.PartnerId, body.ClientReference!,
                body.Lines!.Select(l => new PlaceOrderLine(l!.Sku!, l.Quantity!.Value, l.FaceValue!.Value)).ToList(),
                body.Recipient is null ? null : new Recipient(body.Recipient.Phone, body.Recipient.Email));
            var result = await handler.Place(request, PartnerMetadata(http, partner, clock), ct);
            if (result.Refusal is { } refusal)
                return result.RefusedField is { } field
                    ? new FieldErrors().Check(false, field, refusal.Message).Problem()
                    : Problems.Result(409, refusal.Code, refusal.Message, new Dictionary<string, object?> { ["orderId"] = result.OrderId });
            var placement = PlacementView.Of(result.Order!);
            http.Response.Headers.Location = $"/v1/orders/{result.OrderId}";
            if (placement.Status == nameof(OrderStatus.Rejected))
                return Problems.Result(422, placement.RejectionCode!, placement.RejectionMessage!,
                    new Dictionary<string, object?> { ["orderId"] = result.OrderId, ["status"] = placement.Status, ["order"] = placement });
            return Results.Json(placement, statusCode: 202);
        }).WithSummary("Place an order: priced by the server, funds held (and stock reserved), answered 202 with the order id; fulfilment follows. "
                       + "Idempotent by clientReference: a repeat answers the same, another body under the same reference is 409. "
                       + "Refused orders answer 422 with the reason (insufficient_funds, unknown_sku, product_delisted, stock_exhausted, ...) and hold nothing.")
            .Produces<PlacementView>(202).ProducesProblem(400).ProducesProblem(401).ProducesProblem(409).ProducesProblem(422);

        v1.MapGet("/", async (string? status, string? from, string? to, string? limit, string? after, AuthenticatedPartner partner, OrdersQuery query, CancellationToken ct) =>
        {
            OrderStatus? wanted = null;
            if (status is not null)
            {
                if (!Enum.TryParse<OrderStatus>(status, ignoreCase: true, out var parsed) || parsed == OrderStatus.None || int.TryParse(status, out _))
                    return Problems.Result(400, "invalid_query", $"'status' must be one of {string.Join(", ", Enum.GetNames<OrderStatus>().Skip(1))}.",
                        new Dictionary<string, object?> { ["parameter"] = "status" });
                wanted = parsed;
            }
            if (!QueryParameters.TryRange(from, to, out var fromAt, out var toAt, out var problem)) return problem!;
            if (!QueryParameters.TryLimit(limit, OrdersQuery.DefaultLimit, OrdersQuery.MaxLimit, out var count, out problem)) return problem!;
            try { return Results.Ok(await query.Page(partner.PartnerId, wanted, fromAt, toAt, count, after, ct)); }
            catch (ArgumentException) { return QueryParameters.InvalidCursor(); }
        }).WithSummary("The calling partner's orders from read.orders (eventually consistent), newest first: filter by status and placement time (from inclusive, to exclusive); pages of `limit`, next page with after=`next`.")
            .Produces<OrderPage>().ProducesProblem(400).ProducesProblem(401);

        v1.MapGet("/{orderId}", async (string orderId, AuthenticatedPartner partner, HttpContext http, AggregateCommands<Order, IOrderCommand, IOrderEvent> orders, OrderFulfilment fulfilment, CancellationToken ct) =>
        {
            if (!Order.IsValidId(orderId)) return NotFound(orderId);
            var (order, revision) = await orders.Load(Order.StreamName(orderId), ct);
            // Another partner's order is indistinguishable from none at all.
            if (order.Placed is null || order.Placed.PartnerId != partner.PartnerId) return NotFound(orderId);
            var etag = $"\"{revision}\"";
            if (http.Request.Headers.IfNoneMatch == etag) return Results.StatusCode(304);
            http.Response.Headers.ETag = etag;
            http.Response.Headers.CacheControl = "no-store"; // it may carry codes and PINs
            return Results.Ok(OrderView.Of(order, revision, fulfilment.Open));
        }).WithSummary("One of the calling partner's orders, with delivered codes and PINs (decrypted only here). ETag = stream revision; If-None-Match answers 304.")
            .Produces<OrderView>().ProducesProblem(401).ProducesProblem(404);

        var admin = AdminEndpoints.Group(app).MapGroup("/orders").WithTags("Orders (admin)");

        admin.MapGet("/{orderId}", async (string orderId, HttpContext http, AggregateCommands<Order, IOrderCommand, IOrderEvent> orders, CancellationToken ct) =>
        {
            if (!Order.IsValidId(orderId)) return NotFound(orderId);
            var (order, revision) = await orders.Load(Order.StreamName(orderId), ct);
            if (order.Placed is null) return NotFound(orderId);
            http.Response.Headers.ETag = $"\"{revision}\"";
            return Results.Ok(OrderView.Of(order, revision)); // no codes: admins see that cards were delivered, not what they are
        }).WithSummary("Any order, live from its stream; delivered cards without codes or PINs.")
            .RequireRoles(AdminRoles.Finance, AdminRoles.Support, AdminRoles.Analyst);

        admin.MapPost("/{orderId}/cancel", async (string orderId, CancelRequest body, HttpContext http, CancelOrderHandler cancel, IClock clock, CancellationToken ct) =>
        {
            var errors = new FieldErrors().Check(body.Reason is { Length: > 0 and <= 200 }, "reason", "required: 1–200 characters");
            if (errors.Any) return errors.Problem();
            if (!Order.IsValidId(orderId)) return NotFound(orderId);
            var outcome = await cancel.Cancel(orderId, body.Reason!, RequestMetadata.For(http, clock), ct);
            if (outcome.State.Placed is null) return NotFound(orderId); // no such order: the decision refused, nothing was written
            return Respond(http, outcome.Error, outcome.State, outcome.Revision, outcome.WasRepeat);
        }).WithSummary("Cancel an order whose fulfilment has not begun; its hold and reservations are released. Idempotent.")
            .RequireRoles(AdminRoles.Support);

        admin.MapPost("/{orderId}/retry", async (string orderId, RetryRequest? body, HttpContext http, AggregateCommands<Order, IOrderCommand, IOrderEvent> orders, OrderFulfilment fulfilment,
            RetryOrderHandler retry, IClock clock, CancellationToken ct) =>
        {
            if (!Order.IsValidId(orderId)) return NotFound(orderId);
            var (before, _) = await orders.Load(Order.StreamName(orderId), ct);
            if (before.Placed is null) return NotFound(orderId);
            if (before.Status == OrderStatus.Failed)
            {
                var (order, revision, error) = await retry.Retry(orderId, body?.Reason ?? "retried by an admin", RequestMetadata.For(http, clock), ct);
                if (error is not null) return Problems.Result(409, error.Code, error.Message);
                http.Response.Headers.ETag = $"\"{revision}\"";
                return Results.Ok(OrderView.Of(order, revision));
            }
            if (before.Status is not (OrderStatus.FundsHeld or OrderStatus.Submitted))
                return Problems.Result(409, "invalid_transition", $"Only a failed order, or one in fulfilment, can be retried; this one is {before.Status}.");
            await fulfilment.Advance(orderId, Correlation.Of(http), ct);
            var (now, nowRevision) = await orders.Load(Order.StreamName(orderId), ct);
            return Results.Ok(OrderView.Of(now, nowRevision));
        }).WithSummary("Retry an order. A failed order starts a new round (funds held again, fulfilment with fresh vendor request ids; "
                       + "a refusal such as insufficient_funds rejects the round); an order in fulfilment is advanced now instead of waiting for the poller.")
            .RequireRoles(AdminRoles.Support);

        admin.MapPost("/{orderId}/refunds", async (string orderId, RefundRequest body, HttpContext http, RefundOrderHandler refunds, IClock clock, CancellationToken ct) =>
        {
            var errors = new FieldErrors()
                .Check(body.RefundId is { Length: > 0 and <= 100 } id && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.'), "refundId", "required: 1–100 characters of letters, digits, '_', '-', '.'")
                .Check(body.Amount is > 0, "amount", "positive minor units, at most what was captured and not yet refunded")
                .Check(body.Reason is { Length: > 0 and <= 200 }, "reason", "required: 1–200 characters");
            if (errors.Any) return errors.Problem();
            if (!Order.IsValidId(orderId)) return NotFound(orderId);
            var outcome = await refunds.Refund(orderId, body.RefundId!, body.Amount!.Value, body.Reason!, RequestMetadata.For(http, clock), ct);
            if (outcome.State.Placed is null) return NotFound(orderId); // no such order: the decision refused, nothing was written
            return Respond(http, outcome.Error, outcome.State, outcome.Revision, outcome.WasRepeat);
        }).WithSummary("Refund a completed order in full or in part into the partner's wallet. Idempotent by refundId; never more than was captured.")
            .RequireRoles(AdminRoles.Finance);
    }

    private static FieldErrors Validate(PlaceRequest body)
    {
        var errors = new FieldErrors()
            .Check(body.ClientReference is { Length: > 0 and <= 100 } r && r.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' or ':'), "clientReference", ReferenceRule)
            .Check(body.Lines is { Count: > 0 and <= MaxLines }, "lines", $"1–{MaxLines} lines");
        for (var i = 0; i < (body.Lines?.Count ?? 0) && i < MaxLines; i++)
        {
            var line = body.Lines![i];
            errors.Check(line is not null, $"lines[{i}]", "a line object")
                .Check(line is null || Stock.IsValidId(line.Sku), $"lines[{i}].sku", "required: 1–64 of a-z, 0-9 and '-'")
                .Check(line is null || line.Quantity is > 0 and <= MaxQuantity, $"lines[{i}].quantity", $"1–{MaxQuantity}")
                .Check(line is null || line.FaceValue is > 0, $"lines[{i}].faceValue", "positive minor units of the product's currency");
        }
        if (body.Recipient is { } recipient)
            errors.Check(recipient.Phone is null || E164().IsMatch(recipient.Phone), "recipient.phone", "E.164: '+', country code and number, 8–16 digits in all (e.g. +4915112345678)")
                .Check(recipient.Email is null || Email().IsMatch(recipient.Email), "recipient.email", "an e-mail address");
        return errors;
    }

    private static EventMetadata PartnerMetadata(HttpContext http, AuthenticatedPartner partner, IClock clock)
    {
        var correlation = Correlation.Of(http);
        return new EventMetadata(correlation, correlation, Guid.NewGuid(), $"partner:{partner.PartnerId}", clock.UtcNow);
    }

    private static IResult NotFound(string orderId) => Problems.Result(404, "order_not_found", $"No order '{orderId}'.");

    private static IResult Respond(HttpContext http, DomainError? error, Order order, long revision, bool repeat)
    {
        if (error is not null)
            return Problems.Result(error.Code is "order_not_found" ? 404 : error.Code is "invalid_amount" or "refund_exceeds_captured" ? 422 : 409, error.Code, error.Message);
        http.Response.Headers.ETag = $"\"{revision}\"";
        return repeat ? Results.Ok(OrderView.Of(order, revision)) : Results.Json(OrderView.Of(order, revision), statusCode: 201);
    }
}
