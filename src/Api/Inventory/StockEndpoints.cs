using Steller.Application.Pipeline;
using Steller.Api.Admin;
using Steller.Api.Http;
using Steller.Application.Commands;
using Steller.Application.Inventory;
using Steller.Application.Time;
using Steller.Domain;
using Steller.Domain.Inventory;
using Steller.Infrastructure.Admin;
using Steller.Projections.Inventory;
using Steller.Projections.Wallets;

namespace Steller.Api.Inventory;

/// <summary>
/// Admin stock commands under /admin/inventory/{sku}/{location}. Roles: reading the live level is open to every
/// admin role; changing stock is admin-only. Every command is idempotent by an id in its body (receiptId,
/// adjustmentId, reservationId): the same content again answers 200 with the first result, other content 409.
/// </summary>
public sealed class StockEndpoints : IEndpointModule
{
    public sealed record ReceiveRequest(string? ReceiptId, long? Quantity, long? UnitCost, string? Currency, IReadOnlyList<string?>? VoucherCodes);
    public sealed record TransferRequest(string? TransferId, string? ToLocation, long? Quantity);
    public sealed record AdjustRequest(string? AdjustmentId, long? Quantity, string? Reason);
    public sealed record ReserveRequest(string? ReservationId, long? Quantity, string? OrderId, DateTimeOffset? ExpiresAt);
    public sealed record ReleaseRequest(string? Reason);
    public sealed record LowThresholdRequest(long? Threshold);

    private const string IdRule = "1–64 of a-z, 0-9 and '-', not starting with '-'";
    private const string CommandIdRule = "required: 1–100 characters of letters, digits, '_', '-', '.', ':'";

    public void Map(IEndpointRouteBuilder app)
    {
        AdminEndpoints.Group(app).MapGet("/inventory", async (string? sku, string? location, string? low, string? limit, string? after, StockLevelsQuery levels, CancellationToken ct) =>
        {
            var errors = new FieldErrors()
                .Check(sku is null || Stock.IsValidId(sku), "sku", IdRule)
                .Check(location is null || Stock.IsValidId(location), "location", IdRule)
                .Check(low is null or "true" or "false", "low", "true or false");
            if (errors.Any) return errors.Problem();
            if (!QueryParameters.TryLimit(limit, StockLevelsQuery.DefaultLimit, StockLevelsQuery.MaxLimit, out var count, out var problem)) return problem!;
            (string, string)? cursor = null;
            if (after is not null)
            {
                var dot = after.IndexOf('.');
                if (dot < 0 || !Stock.IsValidId(after[..dot]) || !Stock.IsValidId(after[(dot + 1)..])) return QueryParameters.InvalidCursor();
                cursor = (after[..dot], after[(dot + 1)..]);
            }
            return Results.Ok(await levels.Page(sku, location, low is null ? null : low == "true", count, cursor, ct));
        }).WithTags("Inventory (admin)")
            .WithSummary("Stock levels from read.stock_levels (eventually consistent): filter by sku, location, low=true; pages of `limit`, next page with after=`next`.")
            .RequireRoles(AdminRoles.Finance, AdminRoles.Support, AdminRoles.Analyst);

        var stock = AdminEndpoints.Group(app).MapGroup("/inventory/{sku}/{location}").WithTags("Inventory (admin)");

        stock.MapGet("/", async (string sku, string location, HttpContext http, AggregateCommands<Stock, IStockCommand, IStockEvent> commands) =>
        {
            var errors = Target(sku, location);
            if (errors.Any) return errors.Problem();
            var (state, revision) = await commands.Load(Stock.StreamName(sku, location));
            if (revision < 0) return Problems.Result(404, "stock_not_found", $"No stock has ever been recorded for sku '{sku}' at location '{location}'.");
            http.Response.Headers.ETag = $"\"{revision}\"";
            return Results.Ok(StockView.Of(sku, location, state, revision));
        }).WithSummary("The live stock level (from its stream, not a read model). ETag = stream revision.")
            .RequireRoles(AdminRoles.Finance, AdminRoles.Support, AdminRoles.Analyst);

        stock.MapPost("/receipts", async (string sku, string location, ReceiveRequest body, HttpContext http, AggregateCommands<Stock, IStockCommand, IStockEvent> commands, VoucherCodes vouchers, IClock clock) =>
        {
            var errors = Target(sku, location)
                .Check(IsCommandId(body.ReceiptId), "receiptId", CommandIdRule)
                .Check(body.Quantity is > 0, "quantity", "a positive whole number of units")
                .Check(body.UnitCost is >= 0, "unitCost", "the cost of one unit, 0 or more minor units")
                .Check(Currency.TryParse(body.Currency, out _), "currency", "an ISO 4217 code such as EUR")
                // The messages never quote a code: they are secrets from the moment they arrive.
                .Check(body.VoucherCodes is null || body.VoucherCodes.Count == body.Quantity, "voucherCodes", "exactly one code per unit received (or leave it out for a product without codes)")
                .Check(body.VoucherCodes is null || body.VoucherCodes.All(IsVoucherCode), "voucherCodes", "each code is 1–200 printable characters")
                .Check(body.VoucherCodes is null || body.VoucherCodes.Distinct(StringComparer.Ordinal).Count() == body.VoucherCodes.Count, "voucherCodes", "codes are unique within a receipt");
            if (errors.Any) return errors.Problem();
            var sealedCodes = body.VoucherCodes is null ? null : vouchers.Seal(sku, location, body.ReceiptId!, body.VoucherCodes.Select(c => c!).ToList());
            var outcome = await commands.Execute(Stock.StreamName(sku, location), new ReceiveStock(body.ReceiptId!, body.Quantity!.Value, body.UnitCost!.Value, body.Currency!, sealedCodes), RequestMetadata.For(http, clock));
            return StockResults.Respond(http, outcome, (s, r) => StockView.Of(sku, location, s, r));
        }).WithSummary("Record units received (quantity, unit cost in minor units, optionally one voucher code per unit, sealed before it is stored). Idempotent by receiptId.");

        stock.MapPost("/transfers", async (string sku, string location, TransferRequest body, HttpContext http, StockTransfers commands, IClock clock) =>
        {
            var errors = Target(sku, location)
                .Check(IsCommandId(body.TransferId), "transferId", CommandIdRule)
                .Check(Stock.IsValidId(body.ToLocation) && body.ToLocation != location, "toLocation", $"another location: {IdRule}")
                .Check(body.Quantity is > 0, "quantity", "a positive whole number of units");
            if (errors.Any) return errors.Problem();
            var (sent, received) = await commands.Transfer(sku, location, body.ToLocation!, body.TransferId!, body.Quantity!.Value, RequestMetadata.For(http, clock));
            if (sent.Error is not null || received is null) return StockResults.Respond(http, sent, (s, r) => StockView.Of(sku, location, s, r));
            if (received.Error is { } refused) return StockResults.Problem(refused);
            http.Response.Headers.ETag = $"\"{sent.Revision}\"";
            var view = new TransferView(body.TransferId!, body.Quantity!.Value, StockView.Of(sku, location, sent.State, sent.Revision), StockView.Of(sku, body.ToLocation!, received.State, received.Revision));
            return sent.WasRepeat ? Results.Ok(view) : Results.Json(view, statusCode: 201);
        }).WithSummary("Move units (and their voucher codes, oldest first) to another location of the same sku: out here, in there, one transferId. Idempotent by transferId; a move interrupted between its halves is completed by a background process.");

        stock.MapPost("/adjustments", async (string sku, string location, AdjustRequest body, HttpContext http, AggregateCommands<Stock, IStockCommand, IStockEvent> commands, IClock clock) =>
        {
            var errors = Target(sku, location)
                .Check(IsCommandId(body.AdjustmentId), "adjustmentId", CommandIdRule)
                .Check(body.Quantity is not null and not 0, "quantity", "a non-zero whole number of units: negative takes stock away")
                .Check(body.Reason is not null && Stock.AdjustmentReasons.Contains(body.Reason), "reason", $"one of {string.Join(", ", Stock.AdjustmentReasons)}");
            if (errors.Any) return errors.Problem();
            var outcome = await commands.Execute(Stock.StreamName(sku, location), new AdjustStock(body.AdjustmentId!, body.Quantity!.Value, body.Reason!), RequestMetadata.For(http, clock));
            return StockResults.Respond(http, outcome, (s, r) => StockView.Of(sku, location, s, r));
        }).WithSummary("Correct on-hand stock by a signed quantity with a reason code. Never below what is reserved. Idempotent by adjustmentId.");

        stock.MapPost("/reservations", async (string sku, string location, ReserveRequest body, HttpContext http, AggregateCommands<Stock, IStockCommand, IStockEvent> commands, IClock clock) =>
        {
            var errors = Target(sku, location)
                .Check(IsCommandId(body.ReservationId), "reservationId", CommandIdRule)
                .Check(body.Quantity is > 0, "quantity", "a positive whole number of units")
                .Check(IsCommandId(body.OrderId), "orderId", CommandIdRule);
            if (errors.Any) return errors.Problem();
            var outcome = await commands.Execute(Stock.StreamName(sku, location), new ReserveStock(body.ReservationId!, body.Quantity!.Value, body.OrderId!, body.ExpiresAt, clock.UtcNow), RequestMetadata.For(http, clock));
            return StockResults.Respond(http, outcome, (s, r) => ReservationView.Of(sku, location, s.Reservations[body.ReservationId!], s, r));
        }).WithSummary("Reserve units for an order; expires after 15 minutes unless expiresAt says otherwise. Idempotent by reservationId.");

        stock.MapPost("/reservations/{reservationId}/commit", async (string sku, string location, string reservationId, HttpContext http, AggregateCommands<Stock, IStockCommand, IStockEvent> commands, IClock clock) =>
        {
            var errors = Target(sku, location);
            if (errors.Any) return errors.Problem();
            var outcome = await commands.Execute(Stock.StreamName(sku, location), new CommitReservation(reservationId), RequestMetadata.For(http, clock));
            return StockResults.Respond(http, outcome, (s, r) => ReservationView.Of(sku, location, s.Reservations[reservationId], s, r));
        }).WithSummary("Commit a reservation: its units leave stock. Committing twice is a no-op; after a release it is refused.");

        stock.MapPost("/reservations/{reservationId}/release", async (string sku, string location, string reservationId, ReleaseRequest body, HttpContext http, AggregateCommands<Stock, IStockCommand, IStockEvent> commands, IClock clock) =>
        {
            var errors = Target(sku, location)
                .Check(body.Reason is not null && Stock.ReleaseReasons.Contains(body.Reason), "reason", $"one of {string.Join(", ", Stock.ReleaseReasons)}");
            if (errors.Any) return errors.Problem();
            var outcome = await commands.Execute(Stock.StreamName(sku, location), new ReleaseReservation(reservationId, body.Reason!), RequestMetadata.For(http, clock));
            return StockResults.Respond(http, outcome, (s, r) => ReservationView.Of(sku, location, s.Reservations[reservationId], s, r));
        }).WithSummary("Release a reservation: its units are available again. Releasing twice is a no-op; after a commit it is refused.");

        stock.MapPut("/low-threshold", async (string sku, string location, LowThresholdRequest body, HttpContext http, AggregateCommands<Stock, IStockCommand, IStockEvent> commands, IClock clock) =>
        {
            var errors = Target(sku, location).Check(body.Threshold is >= 0, "threshold", "0 or more units (0 turns the low flag off)");
            if (errors.Any) return errors.Problem();
            var outcome = await commands.Execute(Stock.StreamName(sku, location), new SetLowThreshold(body.Threshold!.Value), RequestMetadata.For(http, clock));
            return StockResults.Respond(http, outcome, (s, r) => StockView.Of(sku, location, s, r));
        }).WithSummary("Available stock at or below this threshold is flagged low.");
    }

    private static FieldErrors Target(string sku, string location) => new FieldErrors()
        .Check(Stock.IsValidId(sku), "sku", IdRule)
        .Check(Stock.IsValidId(location), "location", IdRule);

    private static bool IsVoucherCode(string? code) => code is { Length: > 0 and <= 200 } && code.All(c => c is >= ' ' and <= '~');

    private static bool IsCommandId(string? id) =>
        id is { Length: > 0 and <= 100 } && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' or ':');
}

/// <summary>A stock level; <see cref="HasVoucherCodes"/>: null until the first units arrive, then whether every unit carries a code.</summary>
public sealed record StockView(string Sku, string Location, long OnHand, long Reserved, long Available, long LowThreshold, bool Low, string? Currency, bool? HasVoucherCodes, long Revision)
{
    public static StockView Of(string sku, string location, Stock s, long revision) =>
        new(sku, location, s.OnHand, s.Reserved, s.Available, s.LowThreshold, s.IsLow, s.Currency, s.HasCodes, revision);
}

/// <summary>A reservation; once committed on coded stock, the ids (never the codes) of the vouchers assigned to its order.</summary>
public sealed record ReservationView(string ReservationId, long Quantity, string OrderId, DateTimeOffset ExpiresAt, string Status, IReadOnlyList<string>? VoucherIds, StockView Stock)
{
    public static ReservationView Of(string sku, string location, Reservation r, Stock s, long revision) =>
        new(r.ReservationId, r.Quantity, r.OrderId, r.ExpiresAt, r.Status.ToString().ToLowerInvariant(), r.Vouchers?.Select(v => v.VoucherId).ToList(), StockView.Of(sku, location, s, revision));
}

public sealed record TransferView(string TransferId, long Quantity, StockView From, StockView To);

/// <summary>How stock outcomes become HTTP: one mapping of domain error codes to statuses, in one place.</summary>
public static class StockResults
{
    public static int StatusOf(DomainError error) => error.Code switch
    {
        "reservation_not_found" => 404,
        "idempotency_conflict" or "reservation_released" or "reservation_committed" or "currency_mismatch"
            or "voucher_codes_required" or "voucher_codes_not_expected" => 409,
        _ => 422, // stock_exhausted, insufficient_stock, invalid_* : understood, but refused by the rules
    };

    public static IResult Problem(DomainError error) => Problems.Result(StatusOf(error), error.Code, error.Message);

    /// <summary>201 for a change, 200 for an idempotent repeat (the first result stands), the problem otherwise. ETag = stream revision.</summary>
    public static IResult Respond<T>(HttpContext http, CommandOutcome<Stock> outcome, Func<Stock, long, T> view)
    {
        if (outcome.Error is { } error) return Problem(error);
        http.Response.Headers.ETag = $"\"{outcome.Revision}\"";
        var body = view(outcome.State, outcome.Revision);
        return outcome.WasRepeat ? Results.Ok(body) : Results.Json(body, statusCode: 201);
    }
}
