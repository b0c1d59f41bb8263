using MediatR;
using Steller.Api.Admin;
using Steller.Api.Http;
using Steller.Api.Partners;
using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Application.Orders;
using Steller.Application.Orders.Cancelling;
using Steller.Application.Orders.PlacingOrder;
using Steller.Application.Orders.Refunding;
using Steller.Application.Orders.Retrying;
using Steller.Application.Orders.ViewingOrder;
using Steller.Application.Pipeline;
using Steller.Application.Time;
using Steller.Domain.Orders;
using Steller.Infrastructure.Admin;
using Steller.Projections.Orders;
using Steller.Projections.Orders.ListingOrders;
using Steller.Projections.Orders.SearchingOrders;

namespace Steller.Api.Orders;

/// <summary>
/// Orders: the signed partner API (place, list, read one) and the admin API (read, cancel, retry, refund). Each route
/// binds, sends one use case request and maps the answer; admin writes to one order honour If-Match.
/// POST /v1/orders is idempotent by clientReference per partner: the same body answers the same placement, another
/// body under a used reference is 409 idempotency_conflict.
/// </summary>
public sealed class OrderEndpoints : IEndpointModule
{
    public sealed record OrderLineBody(string? Sku, int? Quantity, long? FaceValue);
    public sealed record RecipientBody(string? Phone, string? Email);
    public sealed record PlaceOrderBody(string? ClientReference, IReadOnlyList<OrderLineBody?>? Lines, RecipientBody? Recipient);
    public sealed record CancelOrderBody(string? Reason);
    public sealed record RetryOrderBody(string? Reason);
    public sealed record RefundOrderBody(string? RefundId, long? Amount, string? Reason);

    /// <summary>
    /// Order refusals at the edge: an unknown order 404, bad amounts 422, every other refusal 409 (a clash with the order's state).
    /// </summary>
    public static readonly ErrorStatuses Statuses = new ErrorStatuses(fallback: 409)
        .With(404, OrderErrors.NotFound.Code)
        .With(409, OrderErrors.IdempotencyConflict.Code, OrderErrors.InvalidTransition.Code, OrderErrors.AlreadyStarted.Code)
        .With(422, OrderErrors.InvalidAmount.Code, OrderErrors.RefundExceedsCaptured.Code, VendorBusyCode);

    /// <summary>A vendor's queue is as long as its request budget can serve before the pending-order timeout.</summary>
    public const string VendorBusyCode = "vendor_busy";

    public void Map(IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup("/v1/orders").WithTags("Partner API");
        MapPlacement(v1);
        MapPartnerReads(v1);

        var admin = AdminEndpoints.Group(app).MapGroup("/orders").WithTags("Orders (admin)");
        MapAdminRead(admin);
        MapAdminWrites(admin);
    }

    private static void MapPlacement(RouteGroupBuilder v1) =>
        v1.MapPost("/", async (PlaceOrderBody body, AuthenticatedPartner partner, HttpContext http, IMediator mediator, IClock clock,
                CancellationToken ct) =>
            {
                var request = new PlaceOrderRequest(partner.PartnerId, body.ClientReference,
                    body.Lines?.Select(l => l is null ? null : new PlaceOrderLine(l.Sku, l.Quantity, l.FaceValue)).ToList(),
                    body.Recipient is null ? null : new Recipient(body.Recipient.Phone, body.Recipient.Email),
                    PartnerMetadata(http, partner, clock));
                return Placement(http, await mediator.Send(request, ct));
            })
            .WithSummary("Place an order: priced by the server, funds held (and stock reserved), answered 202 with the order id; "
                         + "fulfilment follows. "
                         + "Idempotent by clientReference: a repeat answers the same, another body under the same reference is 409. "
                         + "Refused orders answer 422 with the reason (insufficient_funds, unknown_sku, product_delisted, "
                             + "stock_exhausted, ...) "
                         + "and hold nothing. A vendor whose queue is as long as its request budget can serve before the pending-order "
                         + "timeout refuses at once: 422 vendor_busy with Retry-After (seconds); nothing is written, so the same "
                         + "clientReference may be placed again later.")
            .Produces<PlacementView>(202).ProducesProblem(400).ProducesProblem(401).ProducesProblem(409).ProducesProblem(422);

    private static void MapPartnerReads(RouteGroupBuilder v1)
    {
        v1.MapGet("/", async (string? status, string? from, string? to, string? limit, string? after, AuthenticatedPartner partner,
                IMediator mediator, CancellationToken ct) =>
            {
                if (!TryStatus(status, out var wanted, out var problem)) return problem!;
                if (!QueryParameters.TryRange(from, to, out var fromAt, out var toAt, out problem)) return problem!;
                if (!QueryParameters.TryLimit(limit, OrdersQuery.DefaultLimit, OrdersQuery.MaxLimit, out var count, out problem))
                    return problem!;
                if (!OrderCursor.TryDecode(after, out _)) return QueryParameters.InvalidCursor();
                return Results.Ok(await mediator.Send(new ListOrdersRequest(partner.PartnerId, wanted, fromAt, toAt, count, after), ct));
            })
            .WithSummary("The calling partner's orders from read.orders (eventually consistent), newest first: filter by status and "
                         + "placement time "
                         + "(from inclusive, to exclusive); pages of `limit`, next page with after=`next`.")
            .Produces<OrderPage>().ProducesProblem(400).ProducesProblem(401);

        v1.MapGet("/{orderId}",
                async (string orderId, AuthenticatedPartner partner, HttpContext http, IMediator mediator, CancellationToken ct) =>
            {
                if (await mediator.Send(new GetOrderRequest(orderId, partner.PartnerId), ct) is not { } view) return NotFound(orderId);
                var etag = ETag.Of(view.Revision);
                if (http.Request.Headers.IfNoneMatch == etag) return Results.StatusCode(304);
                http.Response.Headers.ETag = etag;
                http.Response.Headers.CacheControl = "no-store"; // it may carry codes and PINs
                return Results.Ok(view);
            })
            .WithSummary("One of the calling partner's orders, with delivered codes and PINs (decrypted only here). "
                         + "ETag = stream revision; If-None-Match answers 304.")
            .Produces<OrderView>().ProducesProblem(401).ProducesProblem(404);
    }

    private static void MapAdminRead(RouteGroupBuilder admin)
    {
        admin.MapGet("/", async (string? partner, string? status, string? sku, string? from, string? to, string? stuck, string? limit,
                string? after, IMediator mediator, CancellationToken ct) =>
            {
                if (!TryStatus(status, out var wanted, out var problem)) return problem!;
                if (!QueryParameters.TryRange(from, to, out var fromAt, out var toAt, out problem)) return problem!;
                if (!QueryParameters.TryLimit(limit, OrdersQuery.DefaultLimit, OrdersQuery.MaxLimit, out var count, out problem))
                    return problem!;
                if (!OrderCursor.TryDecode(after, out _)) return QueryParameters.InvalidCursor();
                if (stuck is not (null or "true" or "false"))
                    return Problems.Result(400, "invalid_query", "'stuck' must be true or false.");
                return Results.Ok(await mediator.Send(new SearchOrdersRequest(partner, wanted, sku, fromAt, toAt, stuck == "true", count, after),
                    ct));
            })
            .WithSummary("Orders of every partner from read.orders (eventually consistent), newest first: filter by partner, status, "
                         + "sku and placement time (from inclusive, to exclusive); stuck=true keeps orders not final whose last change "
                         + "is older than Orders:StuckAfterMinutes. Pages of `limit`, next page with after=`next`.")
            .Produces<OrderPage>().ProducesProblem(400).ProducesProblem(401)
            .RequireRoles(AdminRoles.Finance, AdminRoles.Support, AdminRoles.Analyst);

        admin.MapGet("/{orderId}", async (string orderId, HttpContext http, IMediator mediator, CancellationToken ct) =>
            {
                // No codes: admins see that cards were delivered, not what they are.
                if (await mediator.Send(new GetOrderRequest(orderId), ct) is not { } view) return NotFound(orderId);
                http.Response.Headers.ETag = ETag.Of(view.Revision);
                return Results.Ok(view);
            })
            .WithSummary("Any order, live from its stream; delivered cards without codes or PINs.")
            .RequireRoles(AdminRoles.Finance, AdminRoles.Support, AdminRoles.Analyst);
    }

    private static void MapAdminWrites(RouteGroupBuilder admin)
    {
        admin.MapPost("/{orderId}/cancel", async (string orderId, CancelOrderBody body, HttpContext http, IMediator mediator, IClock clock,
                CancellationToken ct) =>
            {
                var request = new CancelOrderRequest(orderId, body.Reason, RequestMetadata.For(http, clock), IfMatch.Of(http));
                return Changed(http, await mediator.Send(request, ct));
            })
            .WithSummary("Cancel an order whose fulfilment has not begun; its hold and reservations are released. Idempotent.")
            .RequireRoles(AdminRoles.Support).AcceptsIfMatch();

        admin.MapPost("/{orderId}/retry", async (string orderId, RetryOrderBody? body, HttpContext http, IMediator mediator, IClock clock,
                CancellationToken ct) =>
            {
                var request = new RetryOrderRequest(orderId, body?.Reason, RequestMetadata.For(http, clock), IfMatch.Of(http));
                return Outcomes.Ok(http, await mediator.Send(request, ct), Statuses, OrderView.Of);
            })
            .WithSummary("Retry an order. A failed order starts a new round (funds held again, fulfilment with fresh vendor request ids; "
                         + "a refusal such as insufficient_funds rejects the round); "
                         + "an order in fulfilment is advanced now instead of waiting for the poller.")
            .RequireRoles(AdminRoles.Support).AcceptsIfMatch();

        admin.MapPost("/{orderId}/refunds", async (string orderId, RefundOrderBody body, HttpContext http, IMediator mediator, IClock clock,
                CancellationToken ct) =>
            {
                var request = new RefundOrderRequest(orderId, body.RefundId, body.Amount, body.Reason, RequestMetadata.For(http, clock),
                    IfMatch.Of(http));
                return Changed(http, await mediator.Send(request, ct));
            })
            .WithSummary("Refund a completed order in full or in part into the partner's wallet. "
                         + "Idempotent by refundId; never more than was captured.")
            .RequireRoles(AdminRoles.Finance).AcceptsIfMatch();
    }

    /// <summary>
    /// 202 with the placement; 422 with the rejection reason, the order id and the placement for an order the rules
    /// refused; 400 naming the field for a refusal a field is to blame for; 409 (with the order id) for a clash.
    /// </summary>
    private static IResult Placement(HttpContext http, PlaceOrderResult result)
    {
        if (result.RetryAfter is { } retryAfter)
            http.Response.Headers.RetryAfter = ((int)Math.Ceiling(Math.Max(1, retryAfter.TotalSeconds))).ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (result.Refusal is { } refusal)
            return result.RefusedField is { } field
                ? new FieldErrors().Check(false, field, refusal.Message).Problem()
                : Problems.Result(Statuses.Of(refusal), refusal.Code, refusal.Message,
                    new Dictionary<string, object?> { ["orderId"] = result.OrderId });
        var placement = PlacementView.Of(result.Order!);
        http.Response.Headers.Location = $"/v1/orders/{result.OrderId}";
        if (placement.Status != nameof(OrderStatus.Rejected)) return Results.Json(placement, statusCode: 202);
        return Problems.Result(422, placement.RejectionCode!, placement.RejectionMessage!,
            new Dictionary<string, object?> { ["orderId"] = result.OrderId, ["status"] = placement.Status, ["order"] = placement });
    }

    /// <summary>201 with the order for a change, 200 for an idempotent repeat, the problem otherwise.</summary>
    private static IResult Changed(HttpContext http, CommandOutcome<Order> outcome)
        => Outcomes.Respond(http, outcome, Statuses, OrderView.Of);

    private static IResult NotFound(string orderId) => Outcomes.Problem(OrderNotFound.Error(orderId), Statuses);

    private static bool TryStatus(string? status, out OrderStatus? wanted, out IResult? problem)
    {
        wanted = null;
        problem = null;
        if (status is null) return true;
        if (Enum.TryParse<OrderStatus>(status, ignoreCase: true, out var parsed) && parsed != OrderStatus.None
            && !int.TryParse(status, out _))
        {
            wanted = parsed;
            return true;
        }
        problem = Problems.Result(400,
            "invalid_query", $"'status' must be one of {string.Join(", ", Enum.GetNames<OrderStatus>().Skip(1))}.",
            new Dictionary<string, object?> { ["parameter"] = "status" });
        return false;
    }

    private static EventMetadata PartnerMetadata(HttpContext http, AuthenticatedPartner partner, IClock clock)
    {
        var correlation = Correlation.Of(http);
        return new EventMetadata(correlation, correlation, Guid.NewGuid(), $"partner:{partner.PartnerId}", clock.UtcNow);
    }
}
