using System.Collections.Immutable;

namespace Steller.Domain.Orders;

public enum OrderStatus { None, Placed, Rejected, FundsHeld, Submitted, Completed, PartiallyCompleted, Failed, Cancelled, Refunded,
    PartiallyRefunded }

/// <summary>One line and how far its fulfilment got: the request id once started, transient attempts, the final result.</summary>
public sealed record LineState(OrderLine Line, string? RequestId, int Attempts, OrderFulfilled? Result)
{
    public bool IsFinal => Result is not null;
}

/// <summary>
/// One partner order (DOMAIN.md "Orders"). State machine:
/// Placed → FundsHeld → Submitted → Completed | PartiallyCompleted | Failed; Placed → Rejected;
/// Placed | FundsHeld → Cancelled; Completed | PartiallyCompleted → Refunded | PartiallyRefunded.
/// Every transition is idempotent: asking for the state the order is already in is a no-op, so a fulfilment step
/// that crashed can simply run again.
/// </summary>
public sealed partial record Order(
    OrderStatus Status,
    OrderPlaced? Placed,
    ImmutableList<LineState> Lines,
    OrderRejected? Rejection,
    OrderFundsHeld? Funds,
    OrderCompleted? Completion,
    OrderFailed? Failure,
    string? CancelReason,
    ImmutableDictionary<string, OrderRefunded> Refunds,
    int Round = 0)
{
    public static readonly Order Empty = new(OrderStatus.None, null, [], null, null, null, null, null,
        ImmutableDictionary<string, OrderRefunded>.Empty.WithComparers(StringComparer.Ordinal));

    /// <summary>The wallet hold of the order's current round: the order id itself, then "{orderId}:retry-{round}".</summary>
    public static string HoldTransferIdOf(Order s) => s.Round == 0 ? s.Placed!.OrderId : $"{s.Placed!.OrderId}:retry-{s.Round}";

    public long Refunded => Refunds.Values.Sum(r => r.Amount);
    public bool IsTerminal => Status is OrderStatus.Rejected or OrderStatus.Completed or OrderStatus.PartiallyCompleted
        or OrderStatus.Failed
        or OrderStatus.Cancelled or OrderStatus.Refunded or OrderStatus.PartiallyRefunded;

    /// <summary>
    /// The request id a vendor sees for a line (and the id of its stock reservation): a GUID, as vendors expect, derived
    /// from the order id and line number (SHA-256, RFC 9562 version 8), so it never changes across retries or crashes.
    /// </summary>
    public static string RequestIdOf(string orderId, int lineNo, int round = 0)
    {
        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(round == 0
            ? $"{orderId}/{lineNo}" : $"{orderId}/{lineNo}/{round}"));
        hash[6] = (byte)((hash[6] & 0x0F) | 0x80); // version 8: custom
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80); // RFC 9562 variant
        return new Guid(hash.AsSpan(0, 16), bigEndian: true).ToString("D");
    }

    public static Order Evolve(Order s, IOrderEvent e) => e switch
    {
        OrderPlaced p => s with { Status = OrderStatus.Placed, Placed = p, Lines = p.Lines.Select(l => new LineState(l, null, 0, null))
            .ToImmutableList() },
        OrderRejected r => s with { Status = OrderStatus.Rejected, Rejection = r },
        OrderFundsHeld f => s with { Status = OrderStatus.FundsHeld, Funds = f },
        OrderSubmittedToVendor v => s with { Status = OrderStatus.Submitted,
            Lines = s.Lines.SetItem(v.LineNo - 1, s.Lines[v.LineNo - 1] with { RequestId = v.RequestId }) },
        VendorAttemptFailed a => s with { Lines = s.Lines.SetItem(a.LineNo - 1, s.Lines[a.LineNo - 1] with { Attempts = a.Attempt }) },
        OrderFulfilled f => s with { Lines = s.Lines.SetItem(f.LineNo - 1, s.Lines[f.LineNo - 1] with { Result = f }) },
        OrderCompleted c => s with { Status = c.Status == nameof(OrderStatus.Completed) ? OrderStatus.Completed
            : OrderStatus.PartiallyCompleted, Completion = c },
        OrderFailed f => s with { Status = OrderStatus.Failed, Failure = f },
        OrderCancelled c => s with { Status = OrderStatus.Cancelled, CancelReason = c.Reason },
        OrderRetried r => s with
        {
            Status = OrderStatus.Placed, Round = r.Round, Funds = null, Failure = null,
            Lines = s.Lines.Select(l => new LineState(l.Line, null, 0, null)).ToImmutableList(),
        },
        OrderRefunded r => RefundedState(s with { Refunds = s.Refunds.SetItem(r.RefundId, r) }),
        _ => throw new ArgumentOutOfRangeException(nameof(e), e.GetType().Name, "Unknown order event."),
    };

    private static Order RefundedState(Order s) =>
        s with { Status = s.Refunded >= (s.Completion?.Captured ?? 0) ? OrderStatus.Refunded : OrderStatus.PartiallyRefunded };

    public static Decision<IOrderEvent> Decide(IOrderCommand command, Order s) => command switch
    {
        PlaceOrder c => DecidePlace(c, s),
        RejectOrder c => s.Status switch
        {
            OrderStatus.Placed => Emit(new OrderRejected(c.Code, c.Message)),
            OrderStatus.Rejected => Decision<IOrderEvent>.AlreadyDone(),
            _ => Fail(OrderErrors.InvalidTransition),
        },
        RecordFundsHeld c => s.Status switch
        {
            OrderStatus.Placed => Emit(new OrderFundsHeld(HoldTransferIdOf(s), s.Placed!.Total, c.Reservations)),
            OrderStatus.None or OrderStatus.Rejected or OrderStatus.Cancelled => Fail(OrderErrors.InvalidTransition),
            _ => Decision<IOrderEvent>.AlreadyDone(),
        },
        StartFulfilment => s.Status switch
        {
            OrderStatus.FundsHeld => Decision<IOrderEvent>.Emit(s.Lines.Select(l =>
                (IOrderEvent)new OrderSubmittedToVendor(l.Line.LineNo, l.Line.Pricing!.Source,
                    RequestIdOf(s.Placed!.OrderId, l.Line.LineNo, s.Round))).ToArray()),
            OrderStatus.Submitted or OrderStatus.Completed or OrderStatus.PartiallyCompleted or OrderStatus.Failed
                or OrderStatus.Refunded or OrderStatus.PartiallyRefunded => Decision<IOrderEvent>.AlreadyDone(),
            _ => Fail(OrderErrors.InvalidTransition),
        },
        RecordAttemptFailed c => InFlightLine(s, c.LineNo) is { } refusal ? refusal
            : s.Lines[c.LineNo - 1].IsFinal ? Decision<IOrderEvent>.AlreadyDone()
            : Emit(new VendorAttemptFailed(c.LineNo, s.Lines[c.LineNo - 1].Attempts + 1, c.Reason)),
        RecordLineFulfilled c => InFlightLine(s, c.LineNo) is { } refusal ? refusal
            : s.Lines[c.LineNo - 1].IsFinal ? Decision<IOrderEvent>.AlreadyDone() // the first final result stands
            : c.Delivered < 0 || c.Delivered > s.Lines[c.LineNo - 1].Line.Quantity || c.Cards.Count > c.Delivered
                ? Fail(OrderErrors.InvalidDelivery)
            : Emit(new OrderFulfilled(c.LineNo, c.Delivered, c.Cards, c.Delivered < s.Lines[c.LineNo - 1].Line.Quantity ? c.FailureReason
                ?? "not delivered" : null)),
        Settle => DecideSettle(s),
        CancelOrder c => s.Status switch
        {
            OrderStatus.Placed or OrderStatus.FundsHeld => Emit(new OrderCancelled(c.Reason)),
            OrderStatus.Cancelled => Decision<IOrderEvent>.AlreadyDone(),
            OrderStatus.Submitted => Fail(OrderErrors.AlreadyStarted),
            _ => Fail(OrderErrors.InvalidTransition),
        },
        RefundOrder c => DecideRefund(c, s),
        RetryOrder c => s.Status == OrderStatus.Failed ? Emit(new OrderRetried(s.Round + 1, c.Reason))
            : Fail(OrderErrors.InvalidTransition),
        _ => throw new ArgumentOutOfRangeException(nameof(command), command.GetType().Name, "Unknown order command."),
    };

    private static Decision<IOrderEvent> DecidePlace(PlaceOrder c, Order s)
    {
        if (s.Status != OrderStatus.None)
            return s.Placed!.RequestHash == c.RequestHash ? Decision<IOrderEvent>.AlreadyDone() : Fail(OrderErrors.IdempotencyConflict);
        var placed = new OrderPlaced(c.OrderId, c.PartnerId, c.ClientReference, c.RequestHash, c.Currency, c.Lines, c.Recipient,
            c.Lines.Sum(l => l.Price), c.Now);
        return c.Rejection is { } rejected ? Decision<IOrderEvent>.Emit(placed, rejected) : Emit(placed);
    }

    private static Decision<IOrderEvent>? InFlightLine(Order s, int lineNo) =>
        s.Status != OrderStatus.Submitted && !(s.Status is OrderStatus.Completed or OrderStatus.PartiallyCompleted or OrderStatus.Failed)
            ? Fail(OrderErrors.InvalidTransition)
        : lineNo < 1 || lineNo > s.Lines.Count ? Fail(OrderErrors.UnknownLine)
        : s.Lines[lineNo - 1].RequestId is null ? Fail(OrderErrors.InvalidTransition)
        : null;

    /// <summary>
    /// Capture what was delivered: delivered units × unit price. The vendor is owed delivered units × unit cost (stocked
    /// lines: the "stocked" payable, the cost of the vouchers sold); revenue is the rest and is negative on a sale below
    /// cost. What was not delivered is released. Nothing delivered: the order fails and the whole hold is released.
    /// </summary>
    public static (long Captured, long Revenue, IReadOnlyList<VendorPayable> Payables) Settlement(Order s)
    {
        var delivered = s.Lines.Where(l => l.Result is { Delivered: > 0 }).ToList();
        var captured = delivered.Sum(l => l.Result!.Delivered * l.Line.Pricing!.UnitPrice);
        var payables = delivered.GroupBy(l => l.Line.Pricing!.Source, StringComparer.Ordinal)
            .Select(g => new VendorPayable(g.Key, g.Sum(l => l.Result!.Delivered * l.Line.Pricing!.UnitCost)))
            .Where(p => p.Amount != 0).OrderBy(p => p.Vendor, StringComparer.Ordinal).ToList();
        return (captured, captured - payables.Sum(p => p.Amount), payables);
    }

    private static Decision<IOrderEvent> DecideSettle(Order s)
    {
        if (s.Status is OrderStatus.Completed or OrderStatus.PartiallyCompleted or OrderStatus.Failed or OrderStatus.Refunded
            or OrderStatus.PartiallyRefunded)
            return Decision<IOrderEvent>.AlreadyDone();
        if (s.Status != OrderStatus.Submitted) return Fail(OrderErrors.InvalidTransition);
        if (s.Lines.Any(l => !l.IsFinal)) return Fail(OrderErrors.LinesNotFinal);
        var (captured, revenue, payables) = Settlement(s);
        var held = s.Funds!.Amount;
        if (captured == 0)
            return Emit(new OrderFailed(string.Join("; ", s.Lines.Select(l => l.Result!.FailureReason).Where(r => r is not null)
                .Distinct()), held));
        var complete = s.Lines.All(l => l.Result!.Delivered == l.Line.Quantity);
        return Emit(new OrderCompleted(complete ? nameof(OrderStatus.Completed) : nameof(OrderStatus.PartiallyCompleted), captured, held
            - captured, revenue, payables));
    }

    private static Decision<IOrderEvent> DecideRefund(RefundOrder c, Order s)
    {
        if (s.Refunds.TryGetValue(c.RefundId, out var seen))
            return seen.Amount == c.Amount ? Decision<IOrderEvent>.AlreadyDone() : Fail(OrderErrors.IdempotencyConflict);
        if (s.Status is not (OrderStatus.Completed or OrderStatus.PartiallyCompleted or OrderStatus.PartiallyRefunded))
            return Fail(s.Status == OrderStatus.Refunded ? OrderErrors.RefundExceedsCaptured : OrderErrors.InvalidTransition);
        if (c.Amount <= 0) return Fail(OrderErrors.InvalidAmount);
        if (c.Amount > s.Completion!.Captured - s.Refunded) return Fail(OrderErrors.RefundExceedsCaptured);
        return Emit(new OrderRefunded(c.RefundId, c.Amount, c.Reason));
    }

    private static Decision<IOrderEvent> Emit(IOrderEvent e) => Decision<IOrderEvent>.Emit(e);
    private static Decision<IOrderEvent> Fail(DomainError error) => Decision<IOrderEvent>.Fail(error);
}
