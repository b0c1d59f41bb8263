using System.Collections.Concurrent;
using Steller.Application.Commands;
using System.Text;
using Microsoft.Extensions.Logging;
using Steller.Application.Crypto;
using Steller.Application.EventStore;
using Steller.Application.Faults;
using Steller.Application.Inventory;
using Steller.Application.Time;
using Steller.Application.Vendors;
using Steller.Domain.Inventory;
using Steller.Domain.Wallets;
using Steller.Domain.Orders;

namespace Steller.Application.Orders.Fulfilling;

public sealed record FulfilmentOptions(int MaxVendorAttempts = 10);

/// <summary>
/// Moves one order as far as it can go now: start (record the request ids before anything leaves), deliver each line
/// (stocked: commit the reservation and hand over its voucher codes; vendor: submit, or ask how the purchase is going),
/// and once every line is final settle: capture what was delivered with revenue and vendor-payable legs, release the
/// rest. Every step is idempotent, keyed by the order id and the line's request id, so running this twice, or after
/// a crash at any point, never submits twice or charges twice. Callers: the fulfilment process (on funds held) and
/// the poller (for orders still in flight).
/// </summary>
public sealed class OrderFulfilment(AggregateCommands<Order, IOrderCommand, IOrderEvent> orders,
    AggregateCommands<Wallet, IWalletCommand, IWalletEvent> wallets, AggregateCommands<Stock, IStockCommand, IStockEvent> stock,
    IEnumerable<IVendorOrders> vendors, IKeyRing keyRing, IClock clock, FulfilmentOptions options, ILogger<OrderFulfilment> logger)
{
    public const string Actor = "system:fulfilment";

    private readonly Dictionary<string, IVendorOrders> byVendor = vendors.ToDictionary(v => v.Vendor, StringComparer.Ordinal);
    /// <summary>Request ids a vendor has accepted in this process's life: ask their status instead of submitting again.</summary>
    private readonly ConcurrentDictionary<string, bool> accepted = new(StringComparer.Ordinal);
    /// <summary>Orders being advanced in this process: a second caller (the poller, a follow-up) leaves them alone.</summary>
    private readonly ConcurrentDictionary<string, bool> advancing = new(StringComparer.Ordinal);

    /// <summary>
    /// Moves the order on. While another call in this process is advancing the same order (waiting for the vendor's
    /// budget, say), this one changes nothing and answers the order as it stands: two callers never submit one line twice.
    /// </summary>
    public async Task<Order> Advance(string orderId, string correlationId, CancellationToken ct = default)
    {
        if (!advancing.TryAdd(orderId, true)) return (await orders.Load(Order.StreamName(orderId), ct)).State;
        try { return await AdvanceAlone(orderId, correlationId, ct); }
        finally { advancing.TryRemove(orderId, out _); }
    }

    private async Task<Order> AdvanceAlone(string orderId, string correlationId, CancellationToken ct)
    {
        var metadata = Metadata(correlationId);
        // No read first: the command answers the order as it stands. On funds held it starts fulfilment (an append at the
        // cached revision, which meets anything another node wrote); anything else (already submitted, cancelled) is a no-op
        // or a refusal, which reads the stream before it answers.
        var started = await orders.Execute(Order.StreamName(orderId), new StartFulfilment(), metadata, ct: ct);
        var order = started.State;
        if (order.Status != OrderStatus.Submitted) return order; // cancelled, not yet held, or already final
        var startedHere = started.NewEvents.Count > 0;

        // Each recorded line answers the order after it; a line still processing leaves it as it was (its lines' final results
        // never change, so a settlement computed from it is the stream's; the settle command itself appends at its revision).
        foreach (var line in order.Lines.Where(l => !l.IsFinal).ToList())
            order = await Deliver(order, line, mayHaveBeenSent: !startedHere || line.Attempts > 0, metadata, ct);
        return order.Lines.All(l => l.IsFinal) ? await Settle(order, metadata, ct) : order;
    }

    /// <param name="mayHaveBeenSent">
    /// False only when this call started the order's fulfilment (its request ids are new) and the line never failed an
    /// attempt: then nobody can have sent it yet. Otherwise an adapter asks the vendor before submitting it again.
    /// </param>
    /// <returns>The order after what this line recorded (as given when it recorded nothing).</returns>
    private async Task<Order> Deliver(Order order, LineState line, bool mayHaveBeenSent, EventMetadata metadata, CancellationToken ct)
    {
        var orderId = order.Placed!.OrderId;
        var pricing = line.Line.Pricing!;
        if (pricing.Source == LineSources.Stocked)
        {
            var reservation = order.Funds!.Reservations.Single(r => r.LineNo == line.Line.LineNo);
            var committed = await stock.Execute(Stock.StreamName(line.Line.Sku, reservation.Location),
                new CommitReservation(reservation.ReservationId), Now(metadata), ct: ct);
            var command = committed.Error is { } refused
                ? new RecordLineFulfilled(line.Line.LineNo, 0, [], $"stock reservation not available: {refused.Code}")
                : new RecordLineFulfilled(line.Line.LineNo, line.Line.Quantity,
                    committed.State.Reservations[reservation.ReservationId].Vouchers?
                    .Select(v => new DeliveredCard(v.VoucherId,
                        new SealedValue(v.KeyId, v.Ciphertext, Stock.VoucherContext(line.Line.Sku, v.VoucherId)), null, null))
                    .ToList() ?? [], null);
            return await Record(orderId, command, metadata, ct);
        }

        if (!byVendor.TryGetValue(pricing.Source, out var vendor))
            throw new InvalidOperationException($"Order {orderId} line {line.Line.LineNo}: no adapter for vendor '{pricing.Source}'.");
        var purchase = new VendorPurchase(pricing.Source, line.RequestId!, pricing.VendorProductId!, line.Line.FaceValue,
            line.Line.Quantity, order.Placed.Currency!, order.Placed.Recipient?.Phone, mayHaveBeenSent);
        VendorPurchaseResult result;
        try
        {
            if (accepted.ContainsKey(purchase.RequestId)) result = await vendor.Poll(purchase, ct);
            else
            {
                result = await vendor.Submit(purchase, ct);
                CrashPoints.Reach(CrashPoints.AfterVendorSubmission);
            }
        }
        catch (VendorUnavailableException e)
        {
            var failed = await orders.Execute(Order.StreamName(orderId), new RecordAttemptFailed(line.Line.LineNo, VendorText.Reason(e.Message)!), Now(metadata),
                ct: ct);
            var attempts = failed.State.Lines[line.Line.LineNo - 1].Attempts;
            logger.LogWarning("Order {OrderId} line {Line}: vendor {Vendor} unavailable (attempt {Attempt} of {Max}): {Reason}",
                orderId, line.Line.LineNo, pricing.Source, attempts, options.MaxVendorAttempts, e.Message);
            return attempts >= options.MaxVendorAttempts
                ? await Record(orderId, new RecordLineFulfilled(line.Line.LineNo, 0, [], $"vendor unavailable after {attempts} attempts"),
                    metadata, ct)
                : failed.State;
        }
        if (result.Status == VendorPurchaseStatus.Processing)
        {
            accepted[purchase.RequestId] = true;
            return order;
        }
        accepted.TryRemove(purchase.RequestId, out _);
        var cards = result.Cards.Select((c, i) => Seal(orderId, line.Line.LineNo, i + 1, c)).ToList();
        var delivered = result.Status == VendorPurchaseStatus.Failed ? 0 : Math.Clamp(result.Delivered, 0, line.Line.Quantity);
        // The vendor's words are untrusted: cleaned and bounded before they enter the event (VendorText).
        return await Record(orderId, new RecordLineFulfilled(line.Line.LineNo, delivered, cards.Take(delivered).ToList(),
            VendorText.Reason(result.FailureReason) ?? (delivered < line.Line.Quantity ? "vendor did not deliver" : null)), metadata, ct);
    }

    /// <summary>
    /// Card codes and PINs are sealed here, the moment they arrive; each blob is bound to its order, line, card and field.
    /// </summary>
    private DeliveredCard Seal(string orderId, int lineNo, int n, VendorCard card)
    {
        SealedValue SealField(string value, string field)
        {
            var context = $"order:{orderId}:{lineNo}:{n}:{field}";
            var sealedValue = keyRing.Encrypt(Encoding.UTF8.GetBytes(value), context);
            return new SealedValue(sealedValue.KeyId, sealedValue.BlobBase64, context);
        }
        return new DeliveredCard(VendorText.Clean(card.SerialNumber, VendorText.MaxSerial) ?? "", SealField(card.Code, "code"), card.Pin is null ? null : SealField(card.Pin, "pin"),
            card.ExpirationDate);
    }

    /// <summary>Opens a sealed code or PIN: only for the owning partner's order detail.</summary>
    public string Open(SealedValue value)
        => Encoding.UTF8.GetString(keyRing.Decrypt(value.KeyId, Convert.FromBase64String(value.Ciphertext), value.Context));

    /// <returns>The order after the command.</returns>
    private async Task<Order> Record(string orderId, IOrderCommand command, EventMetadata metadata, CancellationToken ct)
    {
        var outcome = await orders.Execute(Order.StreamName(orderId), command, Now(metadata), ct: ct);
        if (outcome.Error is { } error)
            throw new InvalidOperationException($"Order {orderId}: {command.GetType().Name} refused: {error.Code}");
        return outcome.State;
    }

    /// <summary>
    /// Money first (idempotent by the order id), then the order's final event; a crash in between settles again to the same result.
    /// </summary>
    private async Task<Order> Settle(Order order, EventMetadata metadata, CancellationToken ct)
    {
        var placed = order.Placed!;
        var (captured, revenue, payables) = Order.Settlement(order);
        if (captured == 0)
        {
            await wallets.Execute(Wallet.StreamName(placed.PartnerId, placed.Currency!),
                new ReleaseHold(Order.HoldTransferIdOf(order), "order failed: nothing delivered"), Now(metadata), ct: ct);
        }
        else
        {
            var legs = payables.Select(p => new CaptureLeg(Accounts.VendorPayable(p.Vendor, placed.Currency!), p.Amount))
                .Append(new CaptureLeg(Accounts.Revenue(placed.Currency!), revenue)).ToList();
            var capture = await wallets.Execute(Wallet.StreamName(placed.PartnerId, placed.Currency!),
                new CaptureHold(Order.HoldTransferIdOf(order), captured, legs), Now(metadata), ct: ct);
            if (capture.Error is { } error)
                throw new InvalidOperationException($"Order {placed.OrderId}: capture of {captured} refused: {error.Code}");
        }
        var settled = await orders.Execute(Order.StreamName(placed.OrderId), new Settle(), Now(metadata), ct: ct);
        if (settled.Error is { } refused) throw new InvalidOperationException($"Order {placed.OrderId}: settle refused: {refused.Code}");
        logger.LogInformation("Order {OrderId} settled: {Status}, captured {Captured} of {Held}", placed.OrderId, settled.State.Status,
            captured, placed.Total);
        return settled.State;
    }

    private EventMetadata Metadata(string correlationId) => new(correlationId, correlationId, Guid.NewGuid(), Actor, clock.UtcNow);

    /// <summary>
    /// The same command context, recorded now: an event's time is when it was decided (a completion after the vendor's
    /// answer, not when fulfilment began), which is what read models, reports and the webhook payload's timestamp show.
    /// </summary>
    private EventMetadata Now(EventMetadata metadata) => metadata with { RecordedAt = clock.UtcNow };
}
