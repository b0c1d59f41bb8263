using MediatR;
using Steller.Api.Admin;
using Steller.Api.Http;
using Steller.Application.Commands;
using Steller.Application.Inventory;
using Steller.Application.Inventory.AdjustingStock;
using Steller.Application.Inventory.CommittingReservation;
using Steller.Application.Inventory.ReceivingStock;
using Steller.Application.Inventory.ReleasingReservation;
using Steller.Application.Inventory.ReservingStock;
using Steller.Application.Inventory.SettingLowThreshold;
using Steller.Application.Inventory.TransferringStock;
using Steller.Application.Inventory.ViewingStock;
using Steller.Application.Time;
using Steller.Domain.Inventory;
using Steller.Infrastructure.Admin;
using Steller.Projections.Inventory;
using Steller.Projections.Inventory.ListingStock;

namespace Steller.Api.Inventory;

/// <summary>
/// Admin stock commands under /admin/inventory/{sku}/{location}. Roles: reading the live level is open to every
/// admin role; changing stock is admin-only. Every command is idempotent by an id in its body (receiptId,
/// adjustmentId, reservationId): the same content again answers 200 with the first result, other content 409.
/// Each route binds its body, sends one use case request and maps the outcome; writes honour If-Match.
/// </summary>
public sealed class StockEndpoints : IEndpointModule
{
    public sealed record ReceiveStockBody(
        string? ReceiptId, long? Quantity, long? UnitCost, string? Currency, IReadOnlyList<string?>? VoucherCodes);
    public sealed record TransferStockBody(string? TransferId, string? ToLocation, long? Quantity);
    public sealed record AdjustStockBody(string? AdjustmentId, long? Quantity, string? Reason);
    public sealed record ReserveStockBody(string? ReservationId, long? Quantity, string? OrderId, DateTimeOffset? ExpiresAt);
    public sealed record ReleaseReservationBody(string? Reason);
    public sealed record SetLowThresholdBody(long? Threshold);

    /// <summary>
    /// Stock refusals at the edge: an unknown reservation 404, clashes 409, the rest 422 (stock_exhausted, insufficient_stock, invalid_*).
    /// </summary>
    public static readonly ErrorStatuses Statuses = new ErrorStatuses()
        .With(404, "reservation_not_found")
        .With(409, "idempotency_conflict", "reservation_released", "reservation_committed", "currency_mismatch",
            "voucher_codes_required", "voucher_codes_not_expected");

    public void Map(IEndpointRouteBuilder app)
    {
        MapList(AdminEndpoints.Group(app));
        var stock = AdminEndpoints.Group(app).MapGroup("/inventory/{sku}/{location}").WithTags("Inventory (admin)");
        MapReading(stock);
        MapReceiptsAndTransfers(stock);
        MapAdjustments(stock);
        MapReservations(stock);
    }

    private static void MapList(RouteGroupBuilder admin) =>
        admin.MapGet("/inventory", async (string? sku, string? location, string? low, string? limit, string? after, IMediator mediator,
                CancellationToken ct) =>
            {
                if (!QueryParameters.TryLimit(limit, StockLevelsQuery.DefaultLimit, StockLevelsQuery.MaxLimit, out var count,
                    out var problem))
                    return problem!;
                if (!TryCursor(after, out var cursor)) return QueryParameters.InvalidCursor();
                return Results.Ok(await mediator.Send(new ListStockRequest(sku, location, low, count, cursor), ct));
            })
            .WithTags("Inventory (admin)")
            .WithSummary("Stock levels from read.stock_levels (eventually consistent): filter by sku, location, low=true; "
                         + "pages of `limit`, next page with after=`next`.")
            .RequireRoles(AdminRoles.Finance, AdminRoles.Support, AdminRoles.Analyst);

    /// <summary>"sku.location" as the list returned it in `next`; no cursor at all is fine.</summary>
    private static bool TryCursor(string? after, out (string, string)? cursor)
    {
        cursor = null;
        if (after is null) return true;
        var dot = after.IndexOf('.');
        if (dot < 0 || !Stock.IsValidId(after[..dot]) || !Stock.IsValidId(after[(dot + 1)..])) return false;
        cursor = (after[..dot], after[(dot + 1)..]);
        return true;
    }

    private static void MapReading(RouteGroupBuilder stock) =>
        stock.MapGet("/", async (string sku, string location, HttpContext http, IMediator mediator, CancellationToken ct) =>
            {
                if (await mediator.Send(new GetStockRequest(sku, location), ct) is not { } view)
                    return Problems.Result(404,
                        "stock_not_found", $"No stock has ever been recorded for sku '{sku}' at location '{location}'.");
                http.Response.Headers.ETag = ETag.Of(view.Revision);
                return Results.Ok(view);
            })
            .WithSummary("The live stock level (from its stream, not a read model). ETag = stream revision.")
            .RequireRoles(AdminRoles.Finance, AdminRoles.Support, AdminRoles.Analyst);

    private static void MapReceiptsAndTransfers(RouteGroupBuilder stock)
    {
        stock.MapPost("/receipts", async (string sku, string location, ReceiveStockBody body, HttpContext http, IMediator mediator,
                IClock clock, CancellationToken ct) =>
                Level(http, sku, location, await mediator.Send(new ReceiveStockRequest(sku, location, body.ReceiptId, body.Quantity,
                    body.UnitCost, body.Currency, body.VoucherCodes, RequestMetadata.For(http, clock), IfMatch.Of(http)), ct)))
            .WithSummary("Record units received (quantity, unit cost in minor units, optionally one voucher code per unit, sealed "
                         + "before it is "
                         + "stored). Idempotent by receiptId.")
            .AcceptsIfMatch();

        stock.MapPost("/transfers", async (string sku, string location, TransferStockBody body, HttpContext http, IMediator mediator,
                IClock clock, CancellationToken ct) =>
                Transfer(http, sku, location, body, await mediator.Send(new TransferStockRequest(sku, location, body.TransferId,
                    body.ToLocation, body.Quantity, RequestMetadata.For(http, clock), IfMatch.Of(http)), ct)))
            .WithSummary("Move units (and their voucher codes, oldest first) to another location of the same sku: out here, in there, one "
                         + "transferId. Idempotent by transferId; a move interrupted between its halves is completed by a "
                             + "background process. "
                         + "If-Match names this (the sending) location.")
            .AcceptsIfMatch();
    }

    private static void MapAdjustments(RouteGroupBuilder stock)
    {
        stock.MapPost("/adjustments", async (string sku, string location, AdjustStockBody body, HttpContext http, IMediator mediator,
                IClock clock, CancellationToken ct) =>
                Level(http, sku, location, await mediator.Send(new AdjustStockRequest(sku, location, body.AdjustmentId, body.Quantity,
                    body.Reason, RequestMetadata.For(http, clock), IfMatch.Of(http)), ct)))
            .WithSummary("Correct on-hand stock by a signed quantity with a reason code. Never below what is reserved. "
                         + "Idempotent by adjustmentId.")
            .AcceptsIfMatch();

        stock.MapPut("/low-threshold", async (string sku, string location, SetLowThresholdBody body, HttpContext http, IMediator mediator,
                IClock clock, CancellationToken ct) =>
                Level(http, sku, location, await mediator.Send(new SetLowThresholdRequest(sku, location, body.Threshold,
                    RequestMetadata.For(http, clock), IfMatch.Of(http)), ct)))
            .WithSummary("Available stock at or below this threshold is flagged low.")
            .AcceptsIfMatch();
    }

    private static void MapReservations(RouteGroupBuilder stock)
    {
        stock.MapPost("/reservations", async (string sku, string location, ReserveStockBody body, HttpContext http, IMediator mediator,
                IClock clock, CancellationToken ct) =>
                Reservation(http, sku, location, body.ReservationId, await mediator.Send(new ReserveStockRequest(sku, location,
                    body.ReservationId, body.Quantity, body.OrderId, body.ExpiresAt, RequestMetadata.For(http, clock),
                        IfMatch.Of(http)), ct)))
            .WithSummary(
                "Reserve units for an order; expires after 15 minutes unless expiresAt says otherwise. Idempotent by reservationId.")
            .AcceptsIfMatch();

        stock.MapPost("/reservations/{reservationId}/commit", async (string sku, string location, string reservationId, HttpContext http,
                IMediator mediator, IClock clock, CancellationToken ct) =>
                Reservation(http, sku, location, reservationId, await mediator.Send(new CommitReservationRequest(sku, location,
                    reservationId, RequestMetadata.For(http, clock), IfMatch.Of(http)), ct)))
            .WithSummary("Commit a reservation: its units leave stock. Committing twice is a no-op; after a release it is refused.")
            .AcceptsIfMatch();

        stock.MapPost("/reservations/{reservationId}/release", async (string sku, string location, string reservationId,
                ReleaseReservationBody body, HttpContext http, IMediator mediator, IClock clock, CancellationToken ct) =>
                Reservation(http, sku, location, reservationId, await mediator.Send(new ReleaseReservationRequest(sku, location,
                    reservationId, body.Reason, RequestMetadata.For(http, clock), IfMatch.Of(http)), ct)))
            .WithSummary("Release a reservation: its units are available again. Releasing twice is a no-op; after a commit it is refused.")
            .AcceptsIfMatch();
    }

    private static IResult Level(HttpContext http, string sku, string location, CommandOutcome<Stock> outcome) =>
        Outcomes.Respond(http, outcome, Statuses, (s, revision) => StockView.Of(sku, location, s, revision));

    private static IResult Reservation(HttpContext http, string sku, string location, string? reservationId,
            CommandOutcome<Stock> outcome) =>
        Outcomes.Respond(http, outcome, Statuses, ReservationView.Of(sku, location, reservationId!));

    /// <summary>
    /// 201 (200 for a repeat) with both stock items, ETag = the sending location's revision; a refusal of either half is the problem.
    /// </summary>
    private static IResult Transfer(HttpContext http, string sku, string location, TransferStockBody body, StockTransferOutcome outcome)
    {
        if (outcome.From.Error is not null || outcome.To is null) return Outcomes.Problem(http, outcome.From, Statuses);
        if (outcome.To.Error is { } refused) return Outcomes.Problem(refused, Statuses);
        var (sent, received) = (outcome.From, outcome.To);
        http.Response.Headers.ETag = ETag.Of(sent.Revision);
        var view = new StockTransferView(body.TransferId!, body.Quantity!.Value, StockView.Of(sku, location, sent.State, sent.Revision),
            StockView.Of(sku, body.ToLocation!, received.State, received.Revision));
        return sent.WasRepeat ? Results.Ok(view) : Results.Json(view, statusCode: 201);
    }
}
