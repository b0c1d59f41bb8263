using System.Collections.Immutable;

namespace Steller.Domain.Inventory;

public enum ReservationStatus { Open, Committed, Released }

public sealed record Reservation(string ReservationId, long Quantity, string OrderId, DateTimeOffset ExpiresAt, ReservationStatus Status, string Fingerprint);

/// <summary>
/// One stocked product (sku) at one location. Invariant: Available = OnHand − Reserved ≥ 0, checked by every
/// decision that takes stock away. Receipts and adjustments are idempotent by their ids, reservations by reservation id.
/// </summary>
public sealed record Stock(
    long OnHand,
    long Reserved,
    long LowThreshold,
    string? Currency,
    ImmutableDictionary<string, Reservation> Reservations,
    ImmutableDictionary<string, string> Movements)
{
    public static readonly TimeSpan DefaultReservationLifetime = TimeSpan.FromMinutes(15);
    public static readonly IReadOnlyList<string> AdjustmentReasons = ["damaged", "count_correction", "expired", "found"];
    public static readonly IReadOnlyList<string> ReleaseReasons = ["failed", "cancelled", "expired"];

    public static readonly Stock Empty = new(0, 0, 0, null,
        ImmutableDictionary<string, Reservation>.Empty.WithComparers(StringComparer.Ordinal),
        ImmutableDictionary<string, string>.Empty.WithComparers(StringComparer.Ordinal));

    public long Available => OnHand - Reserved;
    public bool IsLow => LowThreshold > 0 && Available <= LowThreshold;

    /// <summary>Sku and location ids: 1–64 of a-z, 0-9 and '-', not starting with '-'.</summary>
    public static bool IsValidId(string? id) =>
        id is { Length: >= 1 and <= 64 } && id[0] != '-' && id.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-');

    public static Stock Evolve(Stock s, IStockEvent e) => e switch
    {
        StockReceived r => s with { OnHand = s.OnHand + r.Quantity, Currency = r.Currency, Movements = s.Movements.SetItem(ReceiptKey(r.ReceiptId), Fingerprints.Receive(r.Quantity, r.UnitCost, r.Currency)) },
        StockAdjusted a => s with { OnHand = s.OnHand + a.Quantity, Movements = s.Movements.SetItem(AdjustmentKey(a.AdjustmentId), Fingerprints.Adjust(a.Quantity, a.Reason)) },
        StockReserved r => s with
        {
            Reserved = s.Reserved + r.Quantity,
            Reservations = s.Reservations.SetItem(r.ReservationId, new Reservation(r.ReservationId, r.Quantity, r.OrderId, r.ExpiresAt, ReservationStatus.Open,
                Fingerprints.Reserve(r.Quantity, r.OrderId, r.RequestedExpiry))),
        },
        ReservationCommitted c => s with
        {
            OnHand = s.OnHand - c.Quantity,
            Reserved = s.Reserved - c.Quantity,
            Reservations = s.Reservations.SetItem(c.ReservationId, s.Reservations[c.ReservationId] with { Status = ReservationStatus.Committed }),
        },
        ReservationReleased r => s with
        {
            Reserved = s.Reserved - r.Quantity,
            Reservations = s.Reservations.SetItem(r.ReservationId, s.Reservations[r.ReservationId] with { Status = ReservationStatus.Released }),
        },
        LowThresholdSet t => s with { LowThreshold = t.Threshold },
        _ => throw new ArgumentOutOfRangeException(nameof(e), e.GetType().Name, "Unknown stock event."),
    };

    public static Decision<IStockEvent> Decide(IStockCommand command, Stock s) => command switch
    {
        ReceiveStock c => DecideReceive(c, s),
        AdjustStock c => DecideAdjust(c, s),
        ReserveStock c => DecideReserve(c, s),
        CommitReservation c => DecideCommit(c, s),
        ReleaseReservation c => DecideRelease(c, s),
        SetLowThreshold c => c.Threshold < 0 ? Fail(StockErrors.InvalidThreshold)
                           : c.Threshold == s.LowThreshold ? Decision<IStockEvent>.AlreadyDone() : Emit(new LowThresholdSet(c.Threshold)),
        _ => throw new ArgumentOutOfRangeException(nameof(command), command.GetType().Name, "Unknown stock command."),
    };

    private static Decision<IStockEvent> DecideReceive(ReceiveStock c, Stock s) =>
        Repeat(s, ReceiptKey(c.ReceiptId), Fingerprints.Receive(c.Quantity, c.UnitCost, c.Currency))
        ?? (c.Quantity <= 0 ? Fail(StockErrors.InvalidQuantity)
          : c.UnitCost < 0 ? Fail(StockErrors.InvalidUnitCost)
          : s.Currency is not null && s.Currency != c.Currency ? Fail(StockErrors.CurrencyMismatch)
          : Emit(new StockReceived(c.ReceiptId, c.Quantity, c.UnitCost, c.Currency)));

    private static Decision<IStockEvent> DecideAdjust(AdjustStock c, Stock s) =>
        Repeat(s, AdjustmentKey(c.AdjustmentId), Fingerprints.Adjust(c.Quantity, c.Reason))
        ?? (c.Quantity == 0 ? Fail(StockErrors.InvalidQuantity)
          : !AdjustmentReasons.Contains(c.Reason) ? Fail(StockErrors.InvalidReason)
          : c.Quantity < 0 && -c.Quantity > s.Available ? Fail(StockErrors.InsufficientStock)
          : Emit(new StockAdjusted(c.AdjustmentId, c.Quantity, c.Reason)));

    private static Decision<IStockEvent> DecideReserve(ReserveStock c, Stock s)
    {
        if (s.Reservations.TryGetValue(c.ReservationId, out var existing))
            return existing.Fingerprint == Fingerprints.Reserve(c.Quantity, c.OrderId, c.ExpiresAt)
                ? Decision<IStockEvent>.AlreadyDone() : Fail(StockErrors.IdempotencyConflict);
        if (c.Quantity <= 0) return Fail(StockErrors.InvalidQuantity);
        if (c.ExpiresAt is { } at && at <= c.Now) return Fail(StockErrors.ExpiryInPast);
        if (c.Quantity > s.Available) return Fail(StockErrors.Exhausted);
        return Emit(new StockReserved(c.ReservationId, c.Quantity, c.OrderId, c.ExpiresAt ?? c.Now + DefaultReservationLifetime, c.ExpiresAt));
    }

    private static Decision<IStockEvent> DecideCommit(CommitReservation c, Stock s) =>
        !s.Reservations.TryGetValue(c.ReservationId, out var r) ? Fail(StockErrors.ReservationNotFound)
        : r.Status switch
        {
            ReservationStatus.Committed => Decision<IStockEvent>.AlreadyDone(),
            ReservationStatus.Released => Fail(StockErrors.ReservationReleased),
            _ => Emit(new ReservationCommitted(r.ReservationId, r.Quantity)),
        };

    private static Decision<IStockEvent> DecideRelease(ReleaseReservation c, Stock s) =>
        !s.Reservations.TryGetValue(c.ReservationId, out var r) ? Fail(StockErrors.ReservationNotFound)
        : !ReleaseReasons.Contains(c.Reason) ? Fail(StockErrors.InvalidReason)
        : r.Status switch
        {
            ReservationStatus.Released => Decision<IStockEvent>.AlreadyDone(),
            ReservationStatus.Committed => Fail(StockErrors.ReservationCommitted),
            _ => Emit(new ReservationReleased(r.ReservationId, r.Quantity, c.Reason)),
        };

    private static string ReceiptKey(string id) => $"receipt:{id}";
    private static string AdjustmentKey(string id) => $"adjustment:{id}";

    /// <summary>Same id: same content is a no-op (the first result stands), different content a conflict.</summary>
    private static Decision<IStockEvent>? Repeat(Stock s, string key, string fingerprint) =>
        s.Movements.TryGetValue(key, out var seen) ? (seen == fingerprint ? Decision<IStockEvent>.AlreadyDone() : Fail(StockErrors.IdempotencyConflict)) : null;

    private static Decision<IStockEvent> Emit(IStockEvent e) => Decision<IStockEvent>.Emit(e);
    private static Decision<IStockEvent> Fail(DomainError error) => Decision<IStockEvent>.Fail(error);

    /// <summary>What makes two submissions of one id "the same content".</summary>
    private static class Fingerprints
    {
        public static string Receive(long quantity, long unitCost, string currency) => $"receive|{quantity}|{unitCost}|{currency}";
        public static string Adjust(long quantity, string reason) => $"adjust|{quantity}|{reason}";
        public static string Reserve(long quantity, string orderId, DateTimeOffset? requestedExpiry) => $"reserve|{quantity}|{orderId}|{requestedExpiry?.UtcTicks}";
    }
}
