using System.Text.Json;

namespace Steller.VendorSimulator;

/// <summary>/control: reset, scripts, recorded requests and the vendor orders actually created. No auth: loopback only.</summary>
public static class ControlEndpoints
{
    public static void Map(WebApplication app)
    {
        var g = app.MapGroup("/control");
        g.AddEndpointFilter(async (ctx, next) =>
            SimulatorApp.IsLoopback(ctx.HttpContext) ? await next(ctx)
                : Results.Json(new { error = "control is loopback only" }, statusCode: 403));

        g.MapPost("/reset", (ScriptBook scripts, Recorder recorder, RateBuckets buckets, GiftCardVendor gift, TopUpVendor topUp,
                SimulatorOptions options) =>
        {
            options.RestoreRateLimits();
            scripts.Reset(); recorder.Reset(); buckets.Reset(); gift.Reset(); topUp.Reset();
            return Results.Ok(new { reset = true });
        });

        g.MapPost("/scripts", (JsonElement body, ScriptBook scripts) =>
        {
            try
            {
                var list = body.ValueKind == JsonValueKind.Array
                    ? body.Deserialize<List<Script>>(SimulatorApp.Json)!
                    : [body.Deserialize<Script>(SimulatorApp.Json)!];
                foreach (var s in list) scripts.Add(s);
                return Results.Ok(new { pending = scripts.Pending() });
            }
            catch (Exception e) when (e is JsonException or ArgumentException)
            {
                return Results.BadRequest(new { error = e.Message });
            }
        });
        g.MapGet("/scripts", (ScriptBook scripts) => Results.Ok(scripts.Pending()));
        g.MapDelete("/scripts", (ScriptBook scripts) => { scripts.Reset(); return Results.Ok(new { pending = 0 }); });

        g.MapGet("/requests", (string? vendor, string? operation, Recorder recorder) => Results.Ok(recorder.All(vendor, operation)));

        g.MapGet("/orders", (string? vendor, GiftCardVendor gift, TopUpVendor topUp) =>
        {
            var orders = gift.Orders()
                .Select(o => new ControlOrder(GiftCardVendor.Name, o.RequestId, o.Lines[0].ProductId.ToString(), o.Units,
                    o.Lines[0].Value, o.Currency, o.Status, o.Status is "Succeeded" or "PartialFailed" ? o.DeliverUnits : 0, o.CreatedAt,
                    o.Lines.Count, o.Reversed))
                .Concat(topUp.Transfers().Select(t => new ControlOrder(TopUpVendor.Name, t.DistributorRef, t.Product.SkuCode, 1,
                    t.SendValue, t.Product.SendCurrencyIso, t.State, t.State == "Complete" ? 1 : 0, t.CreatedAt, 1, t.Reversed)))
                .Where(o => vendor is null || o.Vendor == vendor)
                .OrderBy(o => o.CreatedAt)
                .ToList();
            return Results.Ok(orders);
        });

        // The prepaid balances purchases draw down: read them, or move one (a top-up; a negative amount is a fee or a drift).
        g.MapGet("/balances", (GiftCardVendor gift, TopUpVendor topUp) => Results.Ok(new
        {
            giftcard = gift.Balances(),
            topup = topUp.Balances(),
        }));
        g.MapPost("/balances/top-up", (BalanceTopUp change, GiftCardVendor gift, TopUpVendor topUp) =>
        {
            if (change.Currency is not { Length: 3 } currency || !currency.All(char.IsAsciiLetterUpper))
                return Results.BadRequest(new { error = "currency must be an ISO 4217 code such as EUR" });
            var balance = change.Vendor switch
            {
                GiftCardVendor.Name => gift.TopUp(currency, change.Amount),
                TopUpVendor.Name => topUp.TopUp(currency, change.Amount),
                _ => (decimal?)null,
            };
            return balance is { } b ? Results.Ok(new { vendor = change.Vendor, currency, balance = b })
                : Results.BadRequest(new { error = $"vendor must be {GiftCardVendor.Name} or {TopUpVendor.Name}" });
        });

        // The vendor reverses (refunds) one of its orders: what it kept for it goes back to the prepaid balance (once). Finance then
        // records the reversal in Steller (POST /admin/vendors/{vendor}/refunds) and the reconciliation is exact again.
        g.MapPost("/orders/{vendor}/{requestId}/reversal", (string vendor, string requestId, GiftCardVendor gift, TopUpVendor topUp) =>
        {
            var outcome = vendor switch
            {
                GiftCardVendor.Name => gift.Reverse(requestId),
                TopUpVendor.Name => topUp.Reverse(requestId),
                _ => null,
            };
            return outcome switch
            {
                null => Results.BadRequest(new { error = $"vendor must be {GiftCardVendor.Name} or {TopUpVendor.Name}" }),
                { Result: ReversalResult.NotFound } => Results.NotFound(new { error = $"no {vendor} order {requestId}" }),
                { Result: ReversalResult.NotReversible } => Results.Conflict(new
                    { error = $"{vendor} order {requestId} is {outcome.Status}: only a delivered order can be reversed" }),
                _ => Results.Ok(new
                {
                    vendor, requestId, currency = outcome.Currency, amount = outcome.Amount, balance = outcome.Balance,
                    alreadyReversed = outcome.Result == ReversalResult.AlreadyReversed,
                }),
            };
        });

        g.MapPost("/rate-limit", (RateLimitChange change, SimulatorOptions options, RateBuckets buckets) =>
        {
            var target = new RateLimitOptions { PerSecond = Math.Max(0, change.PerSecond), Burst = Math.Max(1, change.Burst) };
            if (change.Vendor == TopUpVendor.Name) options.TopUp.RateLimit = target;
            else options.GiftCard.RateLimit = target;
            buckets.Reset();
            return Results.Ok(target);
        });
    }

    public sealed record ControlOrder(string Vendor, string RequestId, string ProductId, int Quantity, decimal Value, string Currency,
        string Status, int Delivered, DateTimeOffset CreatedAt, int Products = 1, decimal? Reversed = null);

    public enum ReversalResult { Reversed, AlreadyReversed, NotFound, NotReversible }

    /// <summary>How a reversal went: what went back to the balance (major units of <see cref="Currency"/>) and the balance after.</summary>
    public sealed record ReversalOutcome(ReversalResult Result, string? Currency, decimal Amount, decimal Balance, string? Status = null)
    {
        public static readonly ReversalOutcome NotFound = new(ReversalResult.NotFound, null, 0, 0);
        public static ReversalOutcome NotReversible(string status) => new(ReversalResult.NotReversible, null, 0, 0, status);
    }

    public sealed record RateLimitChange(string Vendor, double PerSecond, int Burst);

    /// <summary>A control top-up: <see cref="Amount"/> in major units of <see cref="Currency"/> (negative takes money away).</summary>
    public sealed record BalanceTopUp(string? Vendor, string? Currency, decimal Amount);
}
