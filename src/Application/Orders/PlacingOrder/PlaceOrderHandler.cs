using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using MediatR;
using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Application.Inventory;
using Steller.Application.Time;
using Steller.Domain;
using Steller.Domain.Inventory;
using Steller.Domain.Wallets;
using Steller.Domain.Orders;

namespace Steller.Application.Orders.PlacingOrder;

/// <summary>
/// Places an order: price every line, record the order, hold the funds on the partner's wallet (transfer id = order
/// id), reserve stock for stocked lines, record that funds are held — or record why it was rejected, releasing
/// anything taken. The order id derives from (partner, clientReference), so duplicates meet on one stream; every step
/// is idempotent, so a duplicate (or a retry after a crash) resumes a placement left half done instead of doubling it.
/// </summary>
public sealed class PlaceOrderHandler(
    AggregateCommands<Order, IOrderCommand, IOrderEvent> orders,
    AggregateCommands<Wallet, IWalletCommand, IWalletEvent> wallets,
    AggregateCommands<Stock, IStockCommand, IStockEvent> stock,
    IOrderPricing pricing,
    IStockLocations locations,
    OrderReleases releases,
    IVendorBacklog backlog,
    IClock clock) : IRequestHandler<PlaceOrderRequest, PlaceOrderResult>
{
    /// <summary>
    /// Reservations outlive the pending-order timeout, so the cancel job (not expiry) decides an unfulfilled order's fate.
    /// </summary>
    public static readonly TimeSpan ReservationLifetime = TimeSpan.FromMinutes(30);

    public static readonly DomainError PhoneRequired =
        new("recipient_phone_required", "Top-up lines need recipient.phone in E.164 form (e.g. +4915112345678).");
    public static readonly DomainError MixedCurrencies = new("mixed_currencies", "All lines of an order must be priced in one currency.");

    public async Task<PlaceOrderResult> Handle(PlaceOrderRequest request, CancellationToken ct)
    {
        var metadata = request.Metadata;
        var orderId = Order.IdFor(request.PartnerId, request.ClientReference!);
        var hash = RequestHash(request);
        // A placement is almost always new: it is priced and recorded without reading its stream first (ExecuteOnNew reads it
        // only when it exists). A repeat is answered from the order as it stands; the paths below that answer without recording
        // anything read the order first, so a repeat gets that answer, not theirs.

        var requested = request.ValidLines;
        var quotes = await Task.WhenAll(requested.Select(l => pricing.Quote(request.PartnerId, l.Sku, l.FaceValue, l.Quantity, ct)));
        var lines = requested.Select((l, i) => new OrderLine(i + 1, l.Sku, l.Quantity, l.FaceValue, quotes[i].Pricing)).ToList();
        var currencies = quotes.Where(q => q.Currency is not null).Select(q => q.Currency!).Distinct().ToList();
        var rejection = quotes.FirstOrDefault(q => q.Error is not null)?.Error is { } priceError
            ? new OrderRejected(priceError.Code, priceError.Message)
            : currencies.Count > 1 ? new OrderRejected(MixedCurrencies.Code, MixedCurrencies.Message)
            : null;
        if (rejection is null && lines.Any(l => l.Pricing!.ProductType == "top_up") && request.Recipient?.Phone is null)
            return await Repeat(orderId, hash, metadata, ct) ?? new(orderId, null, -1, PhoneRequired, "recipient.phone");
        // Fail fast: a vendor whose queue is already as long as its budget can serve before the pending timeout would
        // only have this order cancelled later. Nothing is written, so the same reference can be placed again later.
        if (rejection is null)
            foreach (var vendor in lines.Select(l => l.Pricing!.Source).Where(s => s != LineSources.Stocked).Distinct())
                if (await backlog.Busy(vendor, ct) is { } busy)
                    return await Repeat(orderId, hash, metadata, ct) ?? new(orderId, null, -1, busy.Error, RetryAfter: busy.RetryAfter);

        var placed = await orders.ExecuteOnNew(Order.StreamName(orderId),
            new PlaceOrder(orderId, request.PartnerId, request.ClientReference!, hash,
            currencies.FirstOrDefault(), lines, request.Recipient, rejection, clock.UtcNow), metadata, ct);
        // A repeat with another body, or a concurrent duplicate with another body that won.
        if (placed.Error is { } error) return new(orderId, placed.State, placed.Revision, error);
        return placed.State.Status == OrderStatus.Placed
            ? await Continue(orderId, placed.State, metadata, ct)
            : new(orderId, placed.State, placed.Revision, null);
    }

    /// <summary>The answer to a repeat of an order already recorded under this reference; null when there is none.</summary>
    private async Task<PlaceOrderResult?> Repeat(string orderId, string hash, EventMetadata metadata, CancellationToken ct)
    {
        var (existing, revision) = await orders.Load(Order.StreamName(orderId), ct);
        if (existing.Status == OrderStatus.None) return null;
        if (existing.Placed!.RequestHash != hash) return new(orderId, existing, revision, OrderErrors.IdempotencyConflict);
        return existing.Status == OrderStatus.Placed ? await Continue(orderId, existing, metadata, ct) : new(orderId, existing, revision, null);
    }

    /// <summary>Takes an order back in "Placed" (a retried round, or a placement that died) through hold, reserve, record.</summary>
    public async Task<PlaceOrderResult> Resume(string orderId, EventMetadata metadata, CancellationToken ct = default)
    {
        var (order, revision) = await orders.Load(Order.StreamName(orderId), ct);
        return order.Status == OrderStatus.Placed ? await Continue(orderId, order, metadata, ct) : new(orderId, order, revision, null);
    }

    /// <summary>Hold, reserve, record. Safe to run again at any point: each step is idempotent by the order id (and round).</summary>
    private async Task<PlaceOrderResult> Continue(string orderId, Order order, EventMetadata metadata, CancellationToken ct)
    {
        var placed = order.Placed!;
        var currency = placed.Currency!;
        var hold = await wallets.Execute(Wallet.StreamName(placed.PartnerId, currency),
            new PlaceHold(Order.HoldTransferIdOf(order), placed.Total, null, orderId, clock.UtcNow), metadata, ct: ct);
        if (hold.Error is { } holdError)
        {
            if (holdError == WalletErrors.IdempotencyConflict || holdError == WalletErrors.HoldReleased)
                throw new InvalidOperationException($"Order {orderId}: the wallet hold under its id is not this order's "
                    + $"({holdError.Code}).");
            return await Reject(orderId, holdError, metadata, ct);
        }

        var reservations = new List<LineReservation>();
        foreach (var line in order.Lines.Select(l => l.Line).Where(l => l.Pricing!.Source == LineSources.Stocked))
        {
            var reservation = await Reserve(orderId, line, order.Round, metadata, ct);
            if (reservation is null) return await Reject(orderId, StockErrors.Exhausted, metadata, ct);
            reservations.Add(reservation);
        }

        var held = await orders.Execute(Order.StreamName(orderId), new RecordFundsHeld(reservations), metadata, ct: ct);
        if (held.Error is not null)
        {
            // Decided otherwise meanwhile (a duplicate's rejection, the pending-order timeout): whoever decided released
            // what the order held, but the reservations this runner just made may be new; give them back too.
            var now = held.State;
            if (now.Status is OrderStatus.Rejected or OrderStatus.Cancelled)
                await releases.ReleaseAll(now, $"order {now.Status.ToString().ToLowerInvariant()}", metadata, ct);
            return new(orderId, now, held.Revision, null);
        }
        if (!held.WasRepeat)
            foreach (var vendor in order.Lines.GroupBy(l => l.Line.Pricing!.Source).Where(g => g.Key != LineSources.Stocked))
                backlog.Accepted(vendor.Key, vendor.Count(), held.Position);
        return new(orderId, held.State, held.Revision, null);
    }

    /// <summary>Locations in a fixed order; a reservation id already used at one of them is found there again (idempotent).</summary>
    private async Task<LineReservation?> Reserve(string orderId, OrderLine line, int round, EventMetadata metadata, CancellationToken ct)
    {
        var reservationId = Order.RequestIdOf(orderId, line.LineNo, round);
        foreach (var location in await locations.LocationsOf(line.Sku, ct))
        {
            var reserve = new ReserveStock(reservationId, line.Quantity, orderId, null, clock.UtcNow);
            var outcome = await stock.Execute(Stock.StreamName(line.Sku, location), reserve, metadata, ct: ct);
            if (outcome.Succeeded) return new LineReservation(line.LineNo, location, reservationId, line.Quantity);
        }
        return null;
    }

    /// <summary>
    /// The decision goes first: only the runner whose rejection is recorded gives back the hold and reservations (a
    /// concurrent duplicate that got to "funds held" first keeps them). The release is idempotent and is repeated by
    /// a process manager on order.rejected.v1, so a crash right here strands nothing.
    /// </summary>
    private async Task<PlaceOrderResult> Reject(string orderId, DomainError reason, EventMetadata metadata, CancellationToken ct)
    {
        var rejected = await orders.Execute(Order.StreamName(orderId), new RejectOrder(reason.Code, reason.Message), metadata, ct: ct);
        if (rejected.Succeeded && !rejected.WasRepeat)
            await releases.ReleaseAll(rejected.State, $"order rejected: {reason.Code}", metadata, ct);
        // Refused: the order moved on (funds held by a duplicate, or cancelled); its state came with the refusal.
        return new(orderId, rejected.State, rejected.Revision, null);
    }

    /// <summary>SHA-256 over the request minus its reference, in a canonical JSON form: equal bodies, equal hashes.</summary>
    public static string RequestHash(PlaceOrderRequest request) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new
        {
            lines = request.ValidLines.Select(l => new { l.Sku, l.Quantity, l.FaceValue }),
            phone = request.Recipient?.Phone,
            email = request.Recipient?.Email,
        }))));
}
