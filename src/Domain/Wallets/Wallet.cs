using System.Collections.Immutable;

namespace Steller.Domain.Wallets;

public enum HoldStatus { Open, Captured, Released }

public sealed record Hold(string TransferId, long Amount, DateTimeOffset? ExpiresAt, string? OrderId, HoldStatus Status,
    long Captured, string Fingerprint, string? OutcomeFingerprint);

/// <summary>A posted transfer (deposit, withdrawal, wallet-to-wallet) remembered for idempotency.</summary>
public sealed record TransferRecord(string Kind, long Amount, string Fingerprint);

/// <summary>
/// A partner's wallet in one currency: a ledger account with two-phase holds.
/// Invariant: Available = Posted − Pending ≥ −CreditLimit, checked by every decision that debits.
/// </summary>
public sealed partial record Wallet(
    string? PartnerId,
    string? Currency,
    long Posted,
    long Pending,
    long CreditLimit,
    bool Frozen,
    ImmutableDictionary<string, Hold> Holds,
    ImmutableDictionary<string, TransferRecord> Transfers)
{
    public static readonly Wallet Empty = new(null, null, 0, 0, 0, false,
        ImmutableDictionary<string, Hold>.Empty.WithComparers(StringComparer.Ordinal),
        ImmutableDictionary<string, TransferRecord>.Empty.WithComparers(StringComparer.Ordinal));

    /// <summary>
    /// The version of what a stored wallet state means. Bump it whenever <see cref="Evolve"/> changes (a field added or
    /// computed differently): snapshots of the old fold are then ignored. The state's shape and the event schema are part of
    /// the snapshot tag anyway; the fold is not, so a test pins the fold of a reference history to this number.
    /// 2: a stored state may be <see cref="Lean"/> (closed holds and posted transfers forgotten, see WalletMemory.cs); only on a
    /// reverted branch, whose lean states also forgot records the lookup cannot find. 3: a lean state keeps every record that
    /// is not <see cref="Forgettable"/>.
    /// </summary>
    public const int SnapshotVersion = 3;

    /// <summary>Below this available balance a low-balance webhook fires (once per crossing); null: none.</summary>
    public long? LowBalanceThreshold { get; init; }

    /// <summary>True when <paramref name="after"/> is the first state below the threshold after this one was at or above it.</summary>
    public bool CrossesBelowThreshold(Wallet after) =>
        after.LowBalanceThreshold is { } threshold && after.Available < threshold && Available >= threshold;

    public bool IsOpen => PartnerId is not null;
    public long Available => Posted - Pending;
    /// <summary>What a new debit may take without breaking the invariant.</summary>
    public long Spendable => Available + CreditLimit;

    public static Wallet Evolve(Wallet s, IWalletEvent e) => e switch
    {
        WalletOpened o => s with { PartnerId = o.PartnerId, Currency = o.Currency },
        Deposited d => s with { Posted = s.Posted + d.Amount,
            Transfers = s.Transfers.SetItem(d.TransferId, new("deposit", d.Amount, Fingerprints.Deposit(d.Amount, d.Reference))) },
        Refunded r => s with { Posted = s.Posted + r.Amount,
            Transfers = s.Transfers.SetItem(r.TransferId, new("refund", r.Amount, Fingerprints.Refund(r.Amount, r.OrderId))) },
        Withdrawn w => s with { Posted = s.Posted - w.Amount,
            Transfers = s.Transfers.SetItem(w.TransferId, new("withdrawal", w.Amount, Fingerprints.Withdraw(w.Amount, w.Reference))) },
        HoldPlaced h => s with
        {
            Pending = s.Pending + h.Amount,
            Holds = s.Holds.SetItem(h.TransferId, new Hold(h.TransferId, h.Amount, h.ExpiresAt, h.OrderId, HoldStatus.Open, 0,
                Fingerprints.Hold(h.Amount, h.ExpiresAt, h.OrderId), null)),
        },
        HoldCaptured c => s with
        {
            Posted = s.Posted - c.Amount,
            Pending = s.Pending - s.Holds[c.TransferId].Amount,
            Holds = s.Holds.SetItem(c.TransferId, s.Holds[c.TransferId] with { Status = HoldStatus.Captured, Captured = c.Amount,
                OutcomeFingerprint = Fingerprints.Capture(c.Amount, c.Legs) }),
        },
        HoldReleased r => s with
        {
            Pending = s.Pending - s.Holds[r.TransferId].Amount,
            Holds = s.Holds.SetItem(r.TransferId,
                s.Holds[r.TransferId] with { Status = HoldStatus.Released, OutcomeFingerprint = "release" }),
        },
        CreditLimitSet l => s with { CreditLimit = l.Limit },
        TransferredOut t => s with { Posted = s.Posted - t.Amount, Transfers = s.Transfers.SetItem(t.TransferId,
            new("transfer-out", t.Amount, Fingerprints.TransferOut(t.Amount, t.ToPartnerId))) },
        TransferredIn t => s with { Posted = s.Posted + t.Amount, Transfers = s.Transfers.SetItem(InKey(t.TransferId),
            new("transfer-in", t.Amount, Fingerprints.TransferIn(t.Amount, t.FromPartnerId))) },
        TransferReturned t => s with { Posted = s.Posted + t.Amount, Transfers = s.Transfers.SetItem(ReturnKey(t.TransferId),
            new("transfer-returned", t.Amount, $"return|{t.TransferId}")) },
        WalletFrozen => s with { Frozen = true },
        WalletUnfrozen => s with { Frozen = false },
        LowBalanceThresholdSet t => s with { LowBalanceThreshold = t.Threshold },
        _ => throw new ArgumentOutOfRangeException(nameof(e), e.GetType().Name, "Unknown wallet event."),
    };

    /// <summary>The incoming half of a wallet-to-wallet transfer is remembered under its own key (a wallet can be both ends).</summary>
    public static string InKey(string transferId) => $"in:{transferId}";

    /// <summary>A returned transfer is remembered under its own key: returning it twice changes nothing.</summary>
    public static string ReturnKey(string transferId) => $"return:{transferId}";

    public static Decision<IWalletEvent> Decide(IWalletCommand command, Wallet s) => command switch
    {
        OpenWallet c => s.IsOpen ? (s.PartnerId == c.PartnerId && s.Currency == c.Currency ? Decision<IWalletEvent>.AlreadyDone()
            : Fail(WalletErrors.AlreadyOpen))
                                 : Emit(new WalletOpened(c.PartnerId, c.Currency)),
        _ when !s.IsOpen => Fail(WalletErrors.NotOpen),
        Deposit c => DecideDeposit(c, s),
        Withdraw c => DecideWithdraw(c, s),
        CreditRefund c => Repeat(s, c.TransferId, Fingerprints.Refund(c.Amount, c.OrderId))
            ?? (c.Amount <= 0 ? Fail(WalletErrors.InvalidAmount)
                : !Money.StaysInRange(s.Posted, c.Amount) ? Fail(Money.AmountOutOfRange)
                : Emit(new Refunded(c.TransferId, c.Amount, c.OrderId, Accounts.Revenue(s.Currency!)))),
        PlaceHold c => DecidePlaceHold(c, s),
        CaptureHold c => DecideCapture(c, s),
        ReleaseHold c => DecideRelease(c, s),
        SetCreditLimit c => c.Limit < 0 ? Fail(WalletErrors.InvalidAmount)
                          : c.Limit > Money.MaxMinorUnits ? Fail(Money.AmountOutOfRange)
                          : c.Limit == s.CreditLimit ? Decision<IWalletEvent>.AlreadyDone() : Emit(new CreditLimitSet(c.Limit)),
        TransferOut c => DecideTransferOut(c, s),
        TransferIn c => DecideTransferIn(c, s),
        ReturnTransfer c => DecideReturn(c, s),
        FreezeWallet c => s.Frozen ? Decision<IWalletEvent>.AlreadyDone() : Emit(new WalletFrozen(c.Reason)),
        UnfreezeWallet => s.Frozen ? Emit(new WalletUnfrozen()) : Decision<IWalletEvent>.AlreadyDone(),
        SetLowBalanceThreshold c => c.Threshold is < 0 ? Fail(WalletErrors.InvalidAmount)
                                  : c.Threshold is { } t && !Money.InRange(t) ? Fail(Money.AmountOutOfRange)
                                  : c.Threshold == s.LowBalanceThreshold ? Decision<IWalletEvent>.AlreadyDone()
                                  : Emit(new LowBalanceThresholdSet(c.Threshold)),
        _ => throw new ArgumentOutOfRangeException(nameof(command), command.GetType().Name, "Unknown wallet command."),
    };

    private static Decision<IWalletEvent> DecideDeposit(Deposit c, Wallet s) =>
        Repeat(s, c.TransferId, Fingerprints.Deposit(c.Amount, c.Reference))
        ?? (c.Amount <= 0 ? Fail(WalletErrors.InvalidAmount)
            // A deposit that would take the balance past the bound is refused as a whole: balances never leave ±10^15.
            : !Money.StaysInRange(s.Posted, c.Amount) ? Fail(Money.AmountOutOfRange)
            : Emit(new Deposited(c.TransferId, c.Amount, c.Reference, Accounts.Funding(s.Currency!))));

    private static Decision<IWalletEvent> DecideWithdraw(Withdraw c, Wallet s) =>
        Repeat(s, c.TransferId, Fingerprints.Withdraw(c.Amount, c.Reference))
        ?? (c.Amount <= 0 ? Fail(WalletErrors.InvalidAmount)
          : !Money.InRange(c.Amount) ? Fail(Money.AmountOutOfRange)
          : s.Frozen ? Fail(WalletErrors.Frozen)
          : c.Amount > s.Spendable ? Fail(WalletErrors.InsufficientFunds)
          : Emit(new Withdrawn(c.TransferId, c.Amount, c.Reference, Accounts.Funding(s.Currency!))));

    private static Decision<IWalletEvent> DecidePlaceHold(PlaceHold c, Wallet s)
    {
        if (s.Holds.TryGetValue(c.TransferId, out var existing) || s.Transfers.ContainsKey(c.TransferId))
            return existing is not null && existing.Fingerprint == Fingerprints.Hold(c.Amount, c.ExpiresAt, c.OrderId)
                ? Decision<IWalletEvent>.AlreadyDone() : Fail(WalletErrors.IdempotencyConflict);
        if (c.Amount <= 0) return Fail(WalletErrors.InvalidAmount);
        if (!Money.InRange(c.Amount)) return Fail(Money.AmountOutOfRange);
        if (c.ExpiresAt is { } at && at <= c.Now) return Fail(WalletErrors.HoldExpiryInPast);
        if (s.Frozen) return Fail(WalletErrors.Frozen);
        if (c.Amount > s.Spendable) return Fail(WalletErrors.InsufficientFunds);
        return Emit(new HoldPlaced(c.TransferId, c.Amount, c.ExpiresAt, c.OrderId));
    }

    /// <summary>A capture's legs: revenue and a few vendors; more is a malformed request.</summary>
    public const int MaxCaptureLegs = 100;

    private static Decision<IWalletEvent> DecideCapture(CaptureHold c, Wallet s)
    {
        if (!s.Holds.TryGetValue(c.TransferId, out var hold)) return Fail(WalletErrors.HoldNotFound);
        var legs = c.Legs is { Count: > 0 } given ? given : [new CaptureLeg(Accounts.Revenue(s.Currency!), c.Amount)];
        var kept = legs.Where(l => l.Amount != 0).ToArray(); // zero legs post nothing and are not stored
        var fingerprint = Fingerprints.Capture(c.Amount, kept);
        switch (hold.Status)
        {
            case HoldStatus.Captured:
                return hold.OutcomeFingerprint == fingerprint ? Decision<IWalletEvent>.AlreadyDone()
                    : Fail(WalletErrors.IdempotencyConflict);
            case HoldStatus.Released:
                return Fail(WalletErrors.HoldReleased);
        }
        if (c.Amount < 0) return Fail(WalletErrors.InvalidAmount);
        if (!Money.InRange(c.Amount)) return Fail(Money.AmountOutOfRange);
        if (c.Amount > hold.Amount) return Fail(WalletErrors.CaptureExceedsHold);
        if (legs.Count > MaxCaptureLegs || legs.Any(l => !Money.InRange(l.Amount))) return Fail(Money.AmountOutOfRange);
        // Only revenue may be negative: a sale below cost (a negative margin, allowed but flagged) pays the vendor
        // more than the partner paid, and the platform's revenue covers the difference. Vendor legs credit only the
        // vendors the command names (the hold's order's vendors; none for a hold without an order).
        if (legs.Sum(l => l.Amount) != c.Amount // bounded legs, at most MaxCaptureLegs of them: the sum cannot wrap
            || legs.Any(l => !Accounts.IsCaptureCredit(l.Account, s.Currency!, c.Vendors)
                || (l.Amount < 0 && l.Account != Accounts.Revenue(s.Currency!))))
            return Fail(WalletErrors.InvalidLegs);
        return Emit(new HoldCaptured(c.TransferId, c.Amount, hold.Amount - c.Amount, kept));
    }

    private static Decision<IWalletEvent> DecideRelease(ReleaseHold c, Wallet s) =>
        !s.Holds.TryGetValue(c.TransferId, out var hold) ? Fail(WalletErrors.HoldNotFound)
        : hold.Status switch
        {
            HoldStatus.Released => Decision<IWalletEvent>.AlreadyDone(),
            HoldStatus.Captured => Fail(WalletErrors.HoldCaptured),
            _ => Emit(new HoldReleased(c.TransferId, hold.Amount, c.Reason)),
        };

    private static Decision<IWalletEvent> DecideTransferOut(TransferOut c, Wallet s) =>
        Repeat(s, c.TransferId, Fingerprints.TransferOut(c.Amount, c.ToPartnerId))
        ?? (c.Amount <= 0 ? Fail(WalletErrors.InvalidAmount)
          : !Money.InRange(c.Amount) ? Fail(Money.AmountOutOfRange)
          : s.Frozen ? Fail(WalletErrors.Frozen)
          : c.Amount > s.Spendable ? Fail(WalletErrors.InsufficientFunds)
          : Emit(new TransferredOut(c.TransferId, c.Amount, c.ToPartnerId, Accounts.Transit(s.Currency!))));

    private static Decision<IWalletEvent> DecideTransferIn(TransferIn c, Wallet s) =>
        Repeat(s, InKey(c.TransferId), Fingerprints.TransferIn(c.Amount, c.FromPartnerId))
        ?? (c.Amount <= 0 ? Fail(WalletErrors.InvalidAmount)
            : !Money.StaysInRange(s.Posted, c.Amount) ? Fail(Money.AmountOutOfRange)
            : Emit(new TransferredIn(c.TransferId, c.Amount, c.FromPartnerId, Accounts.Transit(s.Currency!))));

    /// <summary>
    /// Only a transfer this wallet sent can come back, once. Frozen or not: the money was this wallet's a moment ago.
    /// </summary>
    private static Decision<IWalletEvent> DecideReturn(ReturnTransfer c, Wallet s) =>
        s.Transfers.ContainsKey(ReturnKey(c.TransferId)) ? Decision<IWalletEvent>.AlreadyDone()
        : !s.Transfers.TryGetValue(c.TransferId, out var sent) || sent.Kind != "transfer-out" ? Fail(WalletErrors.TransferNotFound)
        : !Money.StaysInRange(s.Posted, sent.Amount) ? Fail(Money.AmountOutOfRange)
        : Emit(new TransferReturned(c.TransferId, sent.Amount, ToPartnerOf(sent), c.Reason, Accounts.Transit(s.Currency!)));

    private static string ToPartnerOf(TransferRecord sent) => sent.Fingerprint.Split('|') is [_, _, var to] ? to : "";

    /// <summary>Same transfer id: same content is a no-op (the first result stands), different content a conflict.</summary>
    private static Decision<IWalletEvent>? Repeat(Wallet s, string key, string fingerprint) =>
        s.Transfers.TryGetValue(key, out var seen)
            ? (seen.Fingerprint == fingerprint ? Decision<IWalletEvent>.AlreadyDone() : Fail(WalletErrors.IdempotencyConflict))
        : s.Holds.ContainsKey(key) ? Fail(WalletErrors.IdempotencyConflict)
        : null;

    private static Decision<IWalletEvent> Emit(IWalletEvent e) => Decision<IWalletEvent>.Emit(e);
    private static Decision<IWalletEvent> Fail(DomainError error) => Decision<IWalletEvent>.Fail(error);

    /// <summary>The postings a wallet event makes (empty for holds, which are pending, not posted).</summary>
    public static IEnumerable<Posting> Postings(string walletAccount, IWalletEvent e) => e switch
    {
        Deposited d => [new Posting(d.CounterAccount, walletAccount, d.Amount)],
        Refunded r => [new Posting(r.CounterAccount, walletAccount, r.Amount)],
        Withdrawn w => [new Posting(walletAccount, w.CounterAccount, w.Amount)],
        // A negative (revenue) leg is money flowing the other way: from revenue through the wallet to the vendor.
        HoldCaptured c => c.Legs.Select(l => l.Amount >= 0 ? new Posting(walletAccount, l.Account, l.Amount)
            : new Posting(l.Account, walletAccount, -l.Amount)),
        TransferredOut t => [new Posting(walletAccount, t.CounterAccount, t.Amount)],
        TransferredIn t => [new Posting(t.CounterAccount, walletAccount, t.Amount)],
        TransferReturned t => [new Posting(t.CounterAccount, walletAccount, t.Amount)],
        _ => [],
    };
}

/// <summary>What makes two submissions of one transfer id "the same content".</summary>
internal static class Fingerprints
{
    public static string Deposit(long amount, string reference) => $"deposit|{amount}|{reference}";
    public static string Withdraw(long amount, string reference) => $"withdraw|{amount}|{reference}";
    public static string Refund(long amount, string orderId) => $"refund|{amount}|{orderId}";
    public static string Hold(long amount, DateTimeOffset? expiresAt, string? orderId) => $"hold|{amount}|{expiresAt?.UtcTicks}|{orderId}";
    public static string Capture(long amount, IReadOnlyList<CaptureLeg> legs)
        => $"capture|{amount}|{string.Join(",", legs.Select(l => $"{l.Account}={l.Amount}"))}";
    public static string TransferOut(long amount, string to) => $"out|{amount}|{to}";
    public static string TransferIn(long amount, string from) => $"in|{amount}|{from}";
}
