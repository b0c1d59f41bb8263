using System.Diagnostics;
using Steller.Application.EventStore;
using Steller.Application.Serialization;
using Steller.Domain.Vendors;
using Steller.Domain.Wallets;

namespace Steller.Projections.Wallets;

/// <summary>Progress of a replay, reported after each page of the log.</summary>
public sealed record ReplayProgress(long EventsRead, long? Total, double EventsPerSecond);

/// <summary>A stored wallet event the replay could not fold (unreadable, or impossible in its wallet's state).</summary>
public sealed record ReplayFault(string StreamId, long Revision, string Position, string Type, string Error);

/// <summary>One wallet as the event store says it is.</summary>
public sealed record ReplayedWallet(string StreamId, string PartnerId, string Currency, string Account, Wallet State, long Revision);

/// <summary>
/// The ledger folded straight from the event store: every wallet (through <see cref="Wallet.Evolve"/>) and every
/// account's balance (credits − debits, through <see cref="Wallet.Postings"/> and, for finance's vendor top-ups and the vendors'
/// reversals, <see cref="VendorAccount.Postings"/>), platform accounts included.
/// </summary>
public sealed class LedgerSnapshot
{
    public Dictionary<string, ReplayedWallet> Wallets { get; } = new(StringComparer.Ordinal);
    /// <summary>Posted balance of every account touched by a posting.</summary>
    public Dictionary<string, long> Balances { get; } = new(StringComparer.Ordinal);
    public long EventsRead { get; set; }
    public long WalletEvents { get; set; }
    /// <summary>Vendor account events folded (top-ups, reversals).</summary>
    public long VendorAccountEvents { get; set; }
    /// <summary>Every event of the ledger folded: wallet and vendor account events.</summary>
    public long LedgerEvents => WalletEvents + VendorAccountEvents;
    public long Postings { get; set; }
    /// <summary>The last event folded (Start when none).</summary>
    public LogPosition Position { get; set; } = LogPosition.Start;
    /// <summary>The last ledger event (wallet or vendor account) folded (Start when none).</summary>
    public LogPosition LastWalletEvent { get; set; } = LogPosition.Start;
    public DateTimeOffset? AsOf { get; init; }
    /// <summary>Events that could not be read or do not apply to their wallet; the rest of such a stream is left out.</summary>
    public List<ReplayFault> Faults { get; } = [];
    public LogPosition? UpTo { get; init; }

    /// <summary>
    /// Sum of all balances per currency: zero when the ledger is balanced. Summed as decimal, so that an unbalanced ledger
    /// whose accounts add up past Int64 is reported with its true sum rather than crashing the audit.
    /// </summary>
    public IReadOnlyDictionary<string, decimal> CurrencyTotals =>
        Balances.GroupBy(b => Accounts.CurrencyOf(b.Key)).OrderBy(g => g.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Sum(b => (decimal)b.Value), StringComparer.Ordinal);
}

/// <summary>
/// Folds every wallet stream from the event store's global log. The one place the ledger is replayed: the
/// `steller ledger audit|balances` commands and POST /admin/ledger/audit use it.
/// </summary>
public sealed class LedgerReplay(IEventStore store, EventTypeRegistry registry)
{
    public const int PageSize = 5_000;

    /// <param name="asOf">Leave out events recorded after this instant (per stream: once a stream passes it, the rest of that
    /// stream is ignored).</param>
    /// <param name="upTo">Stop after this log position (inclusive).</param>
    public async Task<LedgerSnapshot> Fold(DateTimeOffset? asOf = null, LogPosition? upTo = null,
        IProgress<ReplayProgress>? progress = null, CancellationToken ct = default)
    {
        var snapshot = new LedgerSnapshot { AsOf = asOf, UpTo = upTo };
        var closed = new HashSet<string>(StringComparer.Ordinal); // streams that passed asOf
        long? total = store is IEventLogStatistics stats ? await stats.CountAfter(LogPosition.Start, ct) : null;
        var clock = Stopwatch.StartNew();
        var position = LogPosition.Start;
        while (true)
        {
            var page = await store.ReadAll(position, PageSize, ct);
            if (page.Count == 0) break;
            foreach (var e in page)
            {
                if (upTo is { } limit && e.Position > limit) { Report(); return snapshot; }
                snapshot.EventsRead++;
                position = e.Position;
                Step(snapshot, closed, e, asOf);
            }
            snapshot.Position = position;
            if (total < snapshot.EventsRead) total = snapshot.EventsRead;
            Report();
            if (page.Count < PageSize) break;
        }
        return snapshot;

        void Report() => progress?.Report(new ReplayProgress(snapshot.EventsRead, total, snapshot.EventsRead
            / Math.Max(clock.Elapsed.TotalSeconds, 1e-6)));
    }

    /// <summary>
    /// One wallet as it was at <paramref name="asOf"/> (now when null), folded from its own stream with exactly the steps of
    /// <see cref="Fold"/> (so it equals that wallet in `steller ledger balances --as-of`); null when the wallet was not open
    /// by then. Reads one stream, not the whole log.
    /// </summary>
    public async Task<(ReplayedWallet? Wallet, IReadOnlyList<ReplayFault> Faults)> FoldWallet(string partnerId, string currency,
        DateTimeOffset? asOf, CancellationToken ct = default)
    {
        var snapshot = new LedgerSnapshot { AsOf = asOf };
        var closed = new HashSet<string>(StringComparer.Ordinal);
        var streamId = Wallet.StreamName(partnerId, currency);
        StreamRevision? from = null;
        while (!closed.Contains(streamId))
        {
            var slice = await store.ReadStream(streamId, ReadDirection.Forwards, from, PageSize, ct);
            foreach (var e in slice.Events)
            {
                snapshot.EventsRead++;
                Step(snapshot, closed, e, asOf);
                if (closed.Contains(streamId)) break;
            }
            if (slice.Events.Count < PageSize) break;
            from = new StreamRevision(slice.Events[^1].Revision.Value + 1);
        }
        return (snapshot.Wallets.GetValueOrDefault(streamId) is { State.IsOpen: true } wallet ? wallet : null, snapshot.Faults);
    }

    /// <summary>
    /// The one fold step of the ledger replay: a wallet event recorded by <paramref name="asOf"/> is applied to its wallet and
    /// its postings; a stream stops (is closed) at its first event after the instant, or at an event that cannot be folded.
    /// </summary>
    private void Step(LedgerSnapshot snapshot, HashSet<string> closed, RecordedEvent e, DateTimeOffset? asOf)
    {
        if (VendorAccountStreams.EventTypes.Contains(e.Type) && VendorAccount.TryParseStreamName(e.StreamId, out _))
        {
            if (closed.Contains(e.StreamId)) return;
            if (asOf is { } before && e.Metadata.RecordedAt > before) { closed.Add(e.StreamId); return; }
            if (!ApplyVendor(snapshot, e)) closed.Add(e.StreamId);
            return;
        }
        if (!WalletStreams.EventTypes.Contains(e.Type) || !Wallet.TryParseStreamName(e.StreamId, out var partner, out var currency))
            return;
        if (closed.Contains(e.StreamId)) return;
        if (asOf is { } instant && e.Metadata.RecordedAt > instant) { closed.Add(e.StreamId); return; }
        if (Read(snapshot, e) is not { } walletEvent || !Apply(snapshot, e, walletEvent, partner, currency))
            closed.Add(e.StreamId); // its later events cannot be folded on a wrong state
    }

    /// <summary>A vendor account event: its one posting between platform accounts (checked, like every sum of the fold).</summary>
    private bool ApplyVendor(LedgerSnapshot snapshot, RecordedEvent e)
    {
        IVendorAccountEvent? vendorEvent;
        try { vendorEvent = registry.Deserialize(e.Type, e.Data.Span) as IVendorAccountEvent; }
        catch (System.Text.Json.JsonException ex)
        {
            snapshot.Faults.Add(new ReplayFault(e.StreamId, e.Revision.Value, e.Position.ToString(), e.Type, $"unreadable: {ex.Message}"));
            return false;
        }
        if (vendorEvent is null)
        {
            snapshot.Faults.Add(new ReplayFault(e.StreamId, e.Revision.Value, e.Position.ToString(), e.Type, "not a vendor account event"));
            return false;
        }
        var moved = new Dictionary<string, long>(StringComparer.Ordinal);
        var postings = 0;
        try
        {
            foreach (var p in VendorAccount.Postings(vendorEvent))
            {
                if (p.Amount <= 0 || Accounts.CurrencyOf(p.Debit) != vendorEvent.Currency || Accounts.CurrencyOf(p.Credit) != vendorEvent.Currency)
                    throw new ArgumentOutOfRangeException(nameof(e), $"posting {p.Debit} → {p.Credit} of {p.Amount} is not a {vendorEvent.Currency} movement");
                moved[p.Debit] = (moved.TryGetValue(p.Debit, out var d) ? d : snapshot.Balances.GetValueOrDefault(p.Debit)) - p.Amount;
                moved[p.Credit] = (moved.TryGetValue(p.Credit, out var c) ? c : snapshot.Balances.GetValueOrDefault(p.Credit)) + p.Amount;
                postings++;
            }
        }
        catch (Exception ex) when (ex is ArgumentOutOfRangeException or NullReferenceException or OverflowException)
        {
            snapshot.Faults.Add(new ReplayFault(e.StreamId, e.Revision.Value, e.Position.ToString(), e.Type,
                $"cannot be posted ({ex.GetType().Name}: {ex.Message})"));
            return false;
        }
        foreach (var (moving, balance) in moved) snapshot.Balances[moving] = balance;
        snapshot.Postings += postings;
        snapshot.VendorAccountEvents++;
        snapshot.Position = e.Position;
        snapshot.LastWalletEvent = e.Position;
        return true;
    }

    private IWalletEvent? Read(LedgerSnapshot snapshot, RecordedEvent e)
    {
        try
        {
            if (registry.Deserialize(e.Type, e.Data.Span) is IWalletEvent we) return we;
            snapshot.Faults.Add(new ReplayFault(e.StreamId, e.Revision.Value, e.Position.ToString(), e.Type, "not a wallet event"));
        }
        catch (System.Text.Json.JsonException ex)
        {
            snapshot.Faults.Add(new ReplayFault(e.StreamId, e.Revision.Value, e.Position.ToString(),
                e.Type, $"unreadable: {ex.Message}"));
        }
        return null;
    }

    private static bool Apply(LedgerSnapshot snapshot, RecordedEvent e, IWalletEvent walletEvent, string partner, string currency)
    {
        var account = Accounts.Wallet(partner, currency);
        var state = snapshot.Wallets.TryGetValue(e.StreamId, out var w) ? w.State : Wallet.Empty;
        // Every sum is checked (the project compiles with overflow checks): an event whose amounts would wrap a balance is a
        // fault of its stream, reported, never a crash of the audit and never a wrapped number.
        var moved = new Dictionary<string, long>(StringComparer.Ordinal);
        var postings = 0;
        try
        {
            state = Wallet.Evolve(state, walletEvent);
            foreach (var p in Wallet.Postings(account, walletEvent))
            {
                moved[p.Debit] = (moved.TryGetValue(p.Debit, out var d) ? d : snapshot.Balances.GetValueOrDefault(p.Debit)) - p.Amount;
                moved[p.Credit] = (moved.TryGetValue(p.Credit, out var c) ? c : snapshot.Balances.GetValueOrDefault(p.Credit)) + p.Amount;
                postings++;
            }
        }
        catch (Exception ex) when (ex is KeyNotFoundException or ArgumentOutOfRangeException or NullReferenceException
                                       or OverflowException)
        {
            snapshot.Faults.Add(new ReplayFault(e.StreamId, e.Revision.Value, e.Position.ToString(), e.Type,
                $"does not apply to the wallet's state ({ex.GetType().Name}: {ex.Message})"));
            return false;
        }
        snapshot.Wallets[e.StreamId] = new ReplayedWallet(e.StreamId, partner, currency, account, state, e.Revision.Value);
        snapshot.Balances.TryAdd(account, 0);
        foreach (var (moving, balance) in moved) snapshot.Balances[moving] = balance;
        snapshot.Postings += postings;
        snapshot.WalletEvents++;
        snapshot.Position = e.Position;
        snapshot.LastWalletEvent = e.Position;
        return true;
    }
}
