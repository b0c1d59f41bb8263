using System.Collections.Immutable;
using Steller.Domain.Wallets;

namespace Steller.Domain.Vendors;

/// <summary>One recorded movement of a vendor account, remembered under its reference for idempotency.</summary>
public sealed record VendorTransfer(string Kind, string Reference, string Currency, long Amount, string Fingerprint);

/// <summary>
/// Steller's prepaid account at one vendor, as far as finance records it: top-ups and the vendor's reversals, every currency in
/// one stream so a reference is used once per vendor whatever the currency. Purchases draw the account down through the vendor
/// leg of each order's capture (a wallet event crediting platform:vendor:{vendor}:{ccy}); the ledger folds both. The balance
/// Steller holds at the vendor is therefore the negative of that account's balance (credits − debits): top-ups and reversals
/// debit it, purchases credit it.
/// </summary>
public sealed record VendorAccount(ImmutableDictionary<string, VendorTransfer> Transfers,
    ImmutableDictionary<string, long> Recorded)
{
    public const string StreamPrefix = "vendor-";

    public static readonly VendorAccount Empty = new(
        ImmutableDictionary<string, VendorTransfer>.Empty.WithComparers(StringComparer.Ordinal),
        ImmutableDictionary<string, long>.Empty.WithComparers(StringComparer.Ordinal));

    public static string StreamName(string vendor) => $"{StreamPrefix}{vendor}";

    public static bool TryParseStreamName(string streamId, out string vendor)
    {
        vendor = streamId.StartsWith(StreamPrefix, StringComparison.Ordinal) ? streamId[StreamPrefix.Length..] : "";
        return Accounts.IsVendorId(vendor);
    }

    /// <summary>Top-ups and reversals recorded in <paramref name="currency"/> (what finance put in; purchases not counted).</summary>
    public long RecordedIn(string currency) => Recorded.GetValueOrDefault(currency);

    public static VendorAccount Evolve(VendorAccount s, IVendorAccountEvent e) => e switch
    {
        VendorToppedUp t => s.With(new VendorTransfer("top-up", t.Reference, t.Currency, t.Amount, Fingerprints.TopUp(t.Currency, t.Amount))),
        VendorRefunded r => s.With(new VendorTransfer("refund", r.Reference, r.Currency, r.Amount,
            Fingerprints.Refund(r.Currency, r.Amount, r.OrderId, r.Reason))),
        _ => throw new ArgumentOutOfRangeException(nameof(e), e.GetType().Name, "Unknown vendor account event."),
    };

    private VendorAccount With(VendorTransfer t) => this with
    {
        Transfers = Transfers.SetItem(t.Reference, t),
        Recorded = Recorded.SetItem(t.Currency, checked(Recorded.GetValueOrDefault(t.Currency) + t.Amount)),
    };

    public static Decision<IVendorAccountEvent> Decide(IVendorAccountCommand command, VendorAccount s) => command switch
    {
        RecordVendorTopUp c => Check(s, c.Vendor, c.Reference, c.Currency, c.Amount, Fingerprints.TopUp(c.Currency, c.Amount))
            ?? Emit(new VendorToppedUp(c.Reference, c.Currency, c.Amount, Accounts.VendorPayable(c.Vendor, c.Currency),
                Accounts.Funding(c.Currency))),
        RecordVendorRefund c => Check(s, c.Vendor, c.Reference, c.Currency, c.Amount,
                Fingerprints.Refund(c.Currency, c.Amount, c.OrderId, c.Reason))
            ?? Emit(new VendorRefunded(c.Reference, c.Currency, c.Amount, c.OrderId, c.Reason, Accounts.VendorPayable(c.Vendor, c.Currency),
                Accounts.Revenue(c.Currency))),
        _ => throw new ArgumentOutOfRangeException(nameof(command), command.GetType().Name, "Unknown vendor account command."),
    };

    /// <summary>Same reference and content: nothing new (the first answer stands); same reference, other content: a conflict.</summary>
    private static Decision<IVendorAccountEvent>? Check(VendorAccount s, string vendor, string reference, string currency, long amount,
        string fingerprint) =>
        s.Transfers.TryGetValue(reference, out var seen)
            ? seen.Fingerprint == fingerprint ? Decision<IVendorAccountEvent>.AlreadyDone() : Fail(VendorAccountErrors.IdempotencyConflict)
        : !Accounts.IsVendorId(vendor) ? Fail(VendorAccountErrors.InvalidVendor)
        : !Currency.IsKnown(currency) ? Fail(VendorAccountErrors.UnknownCurrency)
        : amount <= 0 ? Fail(VendorAccountErrors.InvalidAmount)
        // What finance records on one account stays within the money bound, like every balance.
        : !Money.StaysInRange(s.RecordedIn(currency), amount) ? Fail(Money.AmountOutOfRange)
        : null;

    /// <summary>The one posting each event makes (both accounts named in the event, as the decision wrote them).</summary>
    public static IEnumerable<Posting> Postings(IVendorAccountEvent e) => e switch
    {
        VendorToppedUp t => [new Posting(t.DebitAccount, t.CreditAccount, t.Amount)],
        VendorRefunded r => [new Posting(r.DebitAccount, r.CreditAccount, r.Amount)],
        _ => [],
    };

    private static Decision<IVendorAccountEvent> Emit(IVendorAccountEvent e) => Decision<IVendorAccountEvent>.Emit(e);
    private static Decision<IVendorAccountEvent> Fail(DomainError error) => Decision<IVendorAccountEvent>.Fail(error);

    private static class Fingerprints
    {
        public static string TopUp(string currency, long amount) => $"top-up|{currency}|{amount}";
        public static string Refund(string currency, long amount, string? orderId, string reason) => $"refund|{currency}|{amount}|{orderId}|{reason}";
    }
}
