using System.Collections.Immutable;

namespace Steller.Domain.Inventory;

public enum ReservationStatus { Open, Committed, Released }

public sealed record Reservation(string ReservationId, long Quantity, string OrderId, DateTimeOffset ExpiresAt, ReservationStatus Status,
    string Fingerprint, IReadOnlyList<SealedVoucher>? Vouchers = null);

/// <summary>
/// One stocked product (sku) at one location. Invariant: Available = OnHand − Reserved ≥ 0, checked by every
/// decision that takes stock away. Receipts, adjustments and transfers are idempotent by their ids, reservations
/// by reservation id.
/// Voucher codes: a stock item either carries a sealed code for every unit on hand (<see cref="HasCodes"/>, fixed by
/// its first receipt or incoming transfer) or none. Codes queue in arrival order; whatever takes units away (commit,
/// negative adjustment, transfer out) takes the oldest codes first, so <c>Vouchers.Count == OnHand</c> always holds.
/// </summary>
public sealed partial record Stock(
    long OnHand,
    long Reserved,
    long LowThreshold,
    string? Currency,
    ImmutableDictionary<string, Reservation> Reservations,
    ImmutableDictionary<string, string> Movements,
    bool? HasCodes,
    ImmutableList<SealedVoucher> Vouchers,
    ImmutableDictionary<string, StockTransferredOut> TransfersOut)
{
    public static readonly TimeSpan DefaultReservationLifetime = TimeSpan.FromMinutes(15);
    public static readonly IReadOnlyList<string> AdjustmentReasons = ["damaged", "count_correction", "expired", "found"];
    public static readonly IReadOnlyList<string> ReleaseReasons = ["failed", "cancelled", "expired"];

    public static readonly Stock Empty = new(0, 0, 0, null,
        ImmutableDictionary<string, Reservation>.Empty.WithComparers(StringComparer.Ordinal),
        ImmutableDictionary<string, string>.Empty.WithComparers(StringComparer.Ordinal),
        null, ImmutableList<SealedVoucher>.Empty,
        ImmutableDictionary<string, StockTransferredOut>.Empty.WithComparers(StringComparer.Ordinal));

    /// <summary>The id of the n-th code (1-based) of a receipt: unique per sku, because receipt ids are unique per location.</summary>
    public static string VoucherId(string location, string receiptId, int n) => $"{location}/{receiptId}/{n}";

    /// <summary>The key-ring context a voucher code is sealed under: a blob only opens as the voucher it was sealed for.</summary>
    public static string VoucherContext(string sku, string voucherId) => $"voucher:{sku}:{voucherId}";

    public long Available => OnHand - Reserved;
    /// <summary>Whether anything ever happened to this item (a receipt, a transfer in, a reservation, a setting).</summary>
    public bool Exists => Movements.Count > 0 || Reservations.Count > 0 || LowThreshold != 0;

    /// <summary>Reasons that only take units away, and those that only add them; count_correction goes either way.</summary>
    public static readonly IReadOnlyList<string> DecreaseReasons = ["damaged", "expired"];
    public static readonly IReadOnlyList<string> IncreaseReasons = ["found"];
    public bool IsLow => LowThreshold > 0 && Available <= LowThreshold;

    /// <summary>Sku and location ids: 1–64 of a-z, 0-9 and '-', not starting with '-'.</summary>
    public static bool IsValidId(string? id) =>
        id is { Length: >= 1 and <= 64 } && id[0] != '-' && id.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-');

    public static Stock Evolve(Stock s, IStockEvent e) => e switch
    {
        StockReceived r => s with
        {
            OnHand = s.OnHand + r.Quantity, Currency = r.Currency, HasCodes = s.HasCodes ?? r.Vouchers is not null,
            Vouchers = r.Vouchers is null ? s.Vouchers : s.Vouchers.AddRange(r.Vouchers),
            Movements = s.Movements.SetItem(ReceiptKey(r.ReceiptId),
                Fingerprints.Receive(r.Quantity, r.UnitCost, r.Currency, r.Vouchers?.Count)),
        },
        StockAdjusted a => s with
        {
            OnHand = s.OnHand + a.Quantity,
            Vouchers = a.RemovedVoucherIds is { Count: > 0 } removed ? s.Vouchers.RemoveRange(0, removed.Count) : s.Vouchers,
            Movements = s.Movements.SetItem(AdjustmentKey(a.AdjustmentId), Fingerprints.Adjust(a.Quantity, a.Reason)),
        },
        StockTransferredOut t => s with
        {
            OnHand = s.OnHand - t.Quantity,
            Vouchers = t.Vouchers is { Count: > 0 } moved ? s.Vouchers.RemoveRange(0, moved.Count) : s.Vouchers,
            TransfersOut = s.TransfersOut.SetItem(t.TransferId, t),
            Movements = s.Movements.SetItem(TransferOutKey(t.TransferId), Fingerprints.TransferOut(t.ToLocation, t.Quantity)),
        },
        StockTransferredIn t => s with
        {
            OnHand = s.OnHand + t.Quantity, Currency = t.Currency, HasCodes = s.HasCodes ?? t.Vouchers is not null,
            Vouchers = t.Vouchers is null ? s.Vouchers : s.Vouchers.AddRange(t.Vouchers),
            Movements = s.Movements.SetItem(TransferInKey(t.TransferId), Fingerprints.TransferIn(t.FromLocation, t.Quantity)),
        },
        StockReserved r => s with
        {
            Reserved = s.Reserved + r.Quantity,
            Reservations = s.Reservations.SetItem(r.ReservationId, new Reservation(r.ReservationId, r.Quantity, r.OrderId, r.ExpiresAt,
                ReservationStatus.Open, Fingerprints.Reserve(r.Quantity, r.OrderId, r.RequestedExpiry))),
        },
        ReservationCommitted c => s with
        {
            OnHand = s.OnHand - c.Quantity,
            Reserved = s.Reserved - c.Quantity,
            Vouchers = c.Vouchers is { Count: > 0 } assigned ? s.Vouchers.RemoveRange(0, assigned.Count) : s.Vouchers,
            Reservations = s.Reservations.SetItem(c.ReservationId,
                s.Reservations[c.ReservationId] with { Status = ReservationStatus.Committed, Vouchers = c.Vouchers }),
        },
        ReservationReleased r => s with
        {
            Reserved = s.Reserved - r.Quantity,
            Reservations = s.Reservations.SetItem(r.ReservationId,
                s.Reservations[r.ReservationId] with { Status = ReservationStatus.Released }),
        },
        LowThresholdSet t => s with { LowThreshold = t.Threshold },
        _ => throw new ArgumentOutOfRangeException(nameof(e), e.GetType().Name, "Unknown stock event."),
    };

    public static Decision<IStockEvent> Decide(IStockCommand command, Stock s) => command switch
    {
        ReceiveStock c => DecideReceive(c, s),
        AdjustStock c => DecideAdjust(c, s),
        TransferStockOut c => DecideTransferOut(c, s),
        TransferStockIn c => DecideTransferIn(c, s),
        ReserveStock c => DecideReserve(c, s),
        CommitReservation c => DecideCommit(c, s),
        ReleaseReservation c => DecideRelease(c, s),
        SetLowThreshold c => c.Threshold < 0 ? Fail(StockErrors.InvalidThreshold)
                           : c.Threshold > Quantity.Max ? Fail(Quantity.OutOfRange)
                           : !s.Exists ? Fail(StockErrors.NotFound)
                           : c.Threshold == s.LowThreshold ? Decision<IStockEvent>.AlreadyDone() : Emit(new LowThresholdSet(c.Threshold)),
        _ => throw new ArgumentOutOfRangeException(nameof(command), command.GetType().Name, "Unknown stock command."),
    };

    private static Decision<IStockEvent> DecideReceive(ReceiveStock c, Stock s) =>
        Repeat(s, ReceiptKey(c.ReceiptId), Fingerprints.Receive(c.Quantity, c.UnitCost, c.Currency, c.Vouchers?.Count))
        ?? (c.Quantity <= 0 ? Fail(StockErrors.InvalidQuantity)
          : !Quantity.StaysInRange(s.OnHand, c.Quantity) ? Fail(Quantity.OutOfRange)
          : c.UnitCost < 0 ? Fail(StockErrors.InvalidUnitCost)
          : c.UnitCost > Money.MaxMinorUnits ? Fail(Money.AmountOutOfRange)
          : !Domain.Currency.IsKnown(c.Currency) ? Fail(StockErrors.UnknownCurrency(c.Currency))
          : s.Currency is not null && s.Currency != c.Currency ? Fail(StockErrors.CurrencyMismatch)
          : CodesRefusal(s, c.Quantity, c.Vouchers) is { } refused ? Fail(refused)
          : Emit(new StockReceived(c.ReceiptId, c.Quantity, c.UnitCost, c.Currency, c.Vouchers)));

    private static Decision<IStockEvent> DecideAdjust(AdjustStock c, Stock s) =>
        Repeat(s, AdjustmentKey(c.AdjustmentId), Fingerprints.Adjust(c.Quantity, c.Reason))
        ?? (c.Quantity == 0 ? Fail(StockErrors.InvalidQuantity)
          // Checked before anything negates the quantity: -long.MinValue does not exist.
          : !Quantity.StaysInRange(s.OnHand, c.Quantity) ? Fail(Quantity.OutOfRange)
          : !AdjustmentReasons.Contains(c.Reason) ? Fail(StockErrors.InvalidReason)
          : c.Quantity > 0 && DecreaseReasons.Contains(c.Reason) ? Fail(StockErrors.ReasonTakesAway)
          : c.Quantity < 0 && IncreaseReasons.Contains(c.Reason) ? Fail(StockErrors.ReasonAdds)
          : c.Quantity < 0 && -c.Quantity > s.Available ? Fail(StockErrors.InsufficientStock)
          // Units on an item never stocked would have no unit cost and no currency: they arrive as a receipt, which carries both.
          : c.Quantity > 0 && s.Currency is null ? Fail(StockErrors.NeverStocked)
          // Found units of coded stock have no codes: they must arrive as a receipt that carries them.
          : c.Quantity > 0 && s.HasCodes == true ? Fail(StockErrors.CodesRequired)
          : Emit(new StockAdjusted(c.AdjustmentId, c.Quantity, c.Reason,
                c.Quantity < 0 && s.HasCodes == true ? s.Vouchers.Take((int)-c.Quantity).Select(v => v.VoucherId).ToList() : null)));

    private static Decision<IStockEvent> DecideTransferOut(TransferStockOut c, Stock s) =>
        Repeat(s, TransferOutKey(c.TransferId), Fingerprints.TransferOut(c.ToLocation, c.Quantity))
        ?? (c.Quantity <= 0 ? Fail(StockErrors.InvalidQuantity)
          : !Quantity.InRange(c.Quantity) ? Fail(Quantity.OutOfRange)
          : c.ToLocation == c.FromLocation ? Fail(StockErrors.SameLocation)
          : s.Currency is null || c.Quantity > s.Available ? Fail(StockErrors.TransferExceedsAvailable)
          : Emit(new StockTransferredOut(c.TransferId, c.ToLocation, c.Quantity, s.Currency,
                s.HasCodes == true ? s.Vouchers.Take((int)c.Quantity).ToList() : null)));

    private static Decision<IStockEvent> DecideTransferIn(TransferStockIn c, Stock s) =>
        Repeat(s, TransferInKey(c.Out.TransferId), Fingerprints.TransferIn(c.FromLocation, c.Out.Quantity))
        ?? (!Quantity.StaysInRange(s.OnHand, c.Out.Quantity) ? Fail(Quantity.OutOfRange)
          : s.Currency is not null && s.Currency != c.Out.Currency ? Fail(StockErrors.CurrencyMismatch)
          : CodesRefusal(s, c.Out.Quantity, c.Out.Vouchers) is { } refused ? Fail(refused)
          : Emit(new StockTransferredIn(c.Out.TransferId, c.FromLocation, c.Out.Quantity, c.Out.Currency, c.Out.Vouchers)));

    /// <summary>Units arriving (receipt or transfer in) carry a code each when the stock has codes, and none when it has not.</summary>
    private static DomainError? CodesRefusal(Stock s, long quantity, IReadOnlyList<SealedVoucher>? vouchers) =>
        vouchers is not null && vouchers.Count != quantity ? StockErrors.CodesCountMismatch
        : s.HasCodes == true && vouchers is null ? StockErrors.CodesRequired
        : s.HasCodes == false && vouchers is not null ? StockErrors.CodesNotExpected
        : null;

    private static Decision<IStockEvent> DecideReserve(ReserveStock c, Stock s)
    {
        if (s.Reservations.TryGetValue(c.ReservationId, out var existing))
            return existing.Fingerprint == Fingerprints.Reserve(c.Quantity, c.OrderId, c.ExpiresAt)
                ? Decision<IStockEvent>.AlreadyDone() : Fail(StockErrors.IdempotencyConflict);
        if (c.Quantity <= 0) return Fail(StockErrors.InvalidQuantity);
        if (!Quantity.InRange(c.Quantity)) return Fail(Quantity.OutOfRange);
        if (c.ExpiresAt is { } at && at <= c.Now) return Fail(StockErrors.ExpiryInPast);
        if (c.Quantity > s.Available) return Fail(StockErrors.Exhausted);
        return Emit(new StockReserved(c.ReservationId, c.Quantity, c.OrderId, c.ExpiresAt ?? c.Now + DefaultReservationLifetime,
            c.ExpiresAt));
    }

    private static Decision<IStockEvent> DecideCommit(CommitReservation c, Stock s) =>
        !s.Reservations.TryGetValue(c.ReservationId, out var r) ? Fail(StockErrors.ReservationNotFound)
        : r.Status switch
        {
            ReservationStatus.Committed => Decision<IStockEvent>.AlreadyDone(),
            ReservationStatus.Released => Fail(StockErrors.ReservationReleased),
            // Coded stock hands the oldest codes to the order; every unit on hand has one, so there are enough.
            _ => Emit(new ReservationCommitted(r.ReservationId, r.Quantity, s.HasCodes == true ? s.Vouchers.Take((int)r.Quantity).ToList()
                : null)),
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
    private static string TransferOutKey(string id) => $"transfer-out:{id}";
    private static string TransferInKey(string id) => $"transfer-in:{id}";

    /// <summary>Same id: same content is a no-op (the first result stands), different content a conflict.</summary>
    private static Decision<IStockEvent>? Repeat(Stock s, string key, string fingerprint) =>
        s.Movements.TryGetValue(key, out var seen)
            ? (seen == fingerprint ? Decision<IStockEvent>.AlreadyDone() : Fail(StockErrors.IdempotencyConflict)) : null;

    private static Decision<IStockEvent> Emit(IStockEvent e) => Decision<IStockEvent>.Emit(e);
    private static Decision<IStockEvent> Fail(DomainError error) => Decision<IStockEvent>.Fail(error);

    /// <summary>What makes two submissions of one id "the same content".</summary>
    private static class Fingerprints
    {
        /// <summary>Codes are compared by count only: their ciphertexts differ on every sealing, and no plaintext is kept.</summary>
        public static string Receive(long quantity, long unitCost, string currency, int? codes)
            => $"receive|{quantity}|{unitCost}|{currency}|{codes}";
        public static string TransferOut(string to, long quantity) => $"transfer-out|{to}|{quantity}";
        public static string TransferIn(string from, long quantity) => $"transfer-in|{from}|{quantity}";
        public static string Adjust(long quantity, string reason) => $"adjust|{quantity}|{reason}";
        public static string Reserve(long quantity, string orderId, DateTimeOffset? requestedExpiry)
            => $"reserve|{quantity}|{orderId}|{requestedExpiry?.UtcTicks}";
    }
}
