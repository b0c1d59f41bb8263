using Dapper;
using Npgsql;
using Steller.Application.EventStore;
using Steller.Domain.Wallets;
using Steller.Projections.Wallets;

namespace Steller.Projections.Wallets;

/// <summary>One account in the audit: what the event store says, and what read.wallet_balances says (null when not compared).</summary>
public sealed record AuditedAccount(string Account, string? PartnerId, string Currency, long Posted, long Pending, long Available,
    long CreditLimit, bool Frozen, long? ReadModelPosted, long? ReadModelPending);

/// <summary>
/// A finding: <see cref="Field"/> of <see cref="Account"/> is <see cref="Log"/> when the event log is folded and
/// <see cref="ReadModel"/> in read.wallet_balances at its checkpoint (null when the finding is about the log alone: a
/// currency that does not sum to zero, a stream that cannot be folded).
/// </summary>
public sealed record LedgerDrift(string Account, string Field, string Log, string? ReadModel, string Message);

public sealed record CurrencyTotal(string Currency, decimal Sum, bool Balanced);

public sealed record LedgerAuditReport(
    DateTimeOffset? AsOf,
    string Position,
    long EventsRead,
    long WalletEvents,
    long Postings,
    bool ComparedWithReadModel,
    string? ReadModelNote,
    IReadOnlyList<CurrencyTotal> Currencies,
    IReadOnlyList<AuditedAccount> Accounts,
    IReadOnlyList<LedgerDrift> Drifts,
    string Result = "clean",
    string? ReadModelPosition = null,
    long WalletEventsBehind = 0,
    string? ReadModelStopped = null,
    long VendorAccountEvents = 0)
{
    /// <summary>Only "clean" is clean: "drift" (the log and the read model disagree, or the log itself is wrong) and
    /// "behind" (no drift, but the read model has not applied every ledger event of the log: catching up or stopped) are not.
    /// <see cref="WalletEventsBehind"/> counts every ledger event (wallet and vendor account) after the read model's checkpoint.</summary>
    public bool Clean => Result == "clean";
}

/// <summary>
/// Finance's proof of the ledger: folds every wallet from the event store (<see cref="LedgerReplay"/>), checks that every
/// currency sums to zero, that each wallet's own posted balance equals its postings, and compares every account with
/// read.wallet_balances. The whole log is folded; the read model is read first, with its checkpoint, and compared with the
/// log folded up to that checkpoint (a second replay, only when wallet events came after it), so a read model that is
/// behind or stopped is reported as "behind" with both positions, never as drift and never as clean. With an as-of
/// instant nothing is compared.
/// </summary>
public sealed class LedgerAudit(LedgerReplay replay, NpgsqlDataSource dataSource)
{
    private sealed record ReadModelRow(string Account, string? PartnerId, string Currency, long Posted, long Pending, long Available,
        long CreditLimit, bool Frozen);

    public async Task<LedgerAuditReport> Run(DateTimeOffset? asOf = null, IProgress<ReplayProgress>? progress = null,
        CancellationToken ct = default)
    {
        Dictionary<string, ReadModelRow>? readModel = null;
        LogPosition? checkpoint = null;
        string? note = null;
        string? stopped = null;
        if (asOf is null)
        {
            (readModel, checkpoint, note, stopped) = await LoadReadModel(ct);
        }
        else note = "Not compared with read.wallet_balances: the read model holds current balances, not balances as of an instant.";

        var snapshot = await replay.Fold(asOf, null, progress, ct);
        // What the read model should show: the log up to its checkpoint (the whole fold when nothing came after it).
        var compared = checkpoint is { } at && snapshot.LastWalletEvent > at ? await replay.Fold(null, at, null, ct) : snapshot;
        var behind = snapshot.LedgerEvents - compared.LedgerEvents;
        var drifts = new List<LedgerDrift>();

        foreach (var f in snapshot.Faults)
            drifts.Add(new LedgerDrift(Wallet.TryParseStreamName(f.StreamId, out var p, out var c) ? Accounts.Wallet(p, c) : f.StreamId,
                "stream", $"revision {f.Revision} cannot be folded", null,
                $"{f.StreamId} revision {f.Revision} ({f.Type} at {f.Position}) {f.Error}; the rest of the stream is left out of "
                    + $"the replay."));

        var currencies = snapshot.CurrencyTotals.Select(t => new CurrencyTotal(t.Key, t.Value, t.Value == 0)).ToList();
        foreach (var c in currencies.Where(c => !c.Balanced))
            drifts.Add(new LedgerDrift($"*:{c.Currency}", "sum", c.Sum.ToString(), null,
                $"The accounts in {c.Currency} sum to {c.Sum} in the log, not zero."));

        var wallets = snapshot.Wallets.Values.ToDictionary(w => w.Account, StringComparer.Ordinal);
        foreach (var w in wallets.Values)
        {
            var fromPostings = snapshot.Balances.GetValueOrDefault(w.Account);
            if (w.State.Posted != fromPostings)
                drifts.Add(new LedgerDrift(w.Account, "posted", w.State.Posted.ToString(), null,
                    $"In the log, the wallet's folded posted balance {w.State.Posted} differs from the sum of its postings {fromPostings}."));
        }

        var comparedWallets = compared.Wallets.Values.ToDictionary(w => w.Account, StringComparer.Ordinal);
        var accounts = new List<AuditedAccount>();
        foreach (var (account, balance) in snapshot.Balances.OrderBy(b => b.Key, StringComparer.Ordinal))
        {
            wallets.TryGetValue(account, out var w);
            ReadModelRow? row = null;
            readModel?.TryGetValue(account, out row);
            var pending = w?.State.Pending ?? 0;
            accounts.Add(new AuditedAccount(account, w?.PartnerId ?? LedgerProjection.OwnerOf(account), Accounts.CurrencyOf(account),
                balance, pending, checked(balance - pending), w?.State.CreditLimit ?? 0, w?.State.Frozen ?? false, row?.Posted, row?.Pending));
            if (readModel is null || !compared.Balances.TryGetValue(account, out var expected)) continue; // not yet in the read model
            comparedWallets.TryGetValue(account, out var cw);
            var expectedPending = cw?.State.Pending ?? 0;
            if (row is null)
            {
                drifts.Add(new LedgerDrift(account, "row", "present", "missing",
                    $"{account} has postings in the log up to the read model's checkpoint but no row in read.wallet_balances."));
                continue;
            }
            Compare(drifts, account, "posted", expected, row.Posted);
            Compare(drifts, account, "available", checked(expected - expectedPending), row.Available);
            if (cw is null) continue;
            Compare(drifts, account, "pending", expectedPending, row.Pending);
            Compare(drifts, account, "credit_limit", cw.State.CreditLimit, row.CreditLimit);
            if (cw.State.Frozen != row.Frozen)
                drifts.Add(new LedgerDrift(account, "frozen", cw.State.Frozen.ToString().ToLowerInvariant(), row.Frozen.ToString()
                    .ToLowerInvariant(),
                    $"{account} is {(cw.State.Frozen ? "" : "not ")}frozen in the log but the read model says otherwise."));
        }
        if (readModel is not null)
            foreach (var extra in readModel.Values.Where(r => !snapshot.Balances.ContainsKey(r.Account)))
                drifts.Add(new LedgerDrift(extra.Account, "row", "absent", "present",
                    $"read.wallet_balances has a row for {extra.Account} (posted {extra.Posted}) that no event in the log explains."));

        if (checkpoint is { } cp)
        {
            if (behind > 0)
                note += $" The read model is behind: {behind} ledger event(s) in the log after its checkpoint {cp} (the log's last wallet "
                    + $"event is at {snapshot.LastWalletEvent}).";
            if (stopped is not null) note += $" The ledger projection is STOPPED: {stopped}";
        }
        var result = drifts.Count > 0 ? "drift" : behind > 0 || stopped is not null ? "behind" : "clean";
        return new LedgerAuditReport(asOf, snapshot.Position.ToString(), snapshot.EventsRead, snapshot.WalletEvents, snapshot.Postings,
            readModel is not null, note, currencies, accounts, drifts, result, checkpoint?.ToString(), behind, stopped,
            snapshot.VendorAccountEvents);
    }

    private static void Compare(List<LedgerDrift> drifts, string account, string field, long log, long readModel)
    {
        if (log != readModel)
            drifts.Add(new LedgerDrift(account, field, log.ToString(), readModel.ToString(),
                $"{account}: {field} is {log} in the log (folded up to the read model's checkpoint) but {readModel} in "
                    + $"read.wallet_balances (read model − log = {(Int128)readModel - log})."));
    }

    /// <summary>The read model and the log position it covers, read in one snapshot.</summary>
    private async Task<(Dictionary<string, ReadModelRow>?, LogPosition?, string?, string?)> LoadReadModel(CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);
        var checkpoint = await conn.QuerySingleOrDefaultAsync<long[]>(new CommandDefinition("""
            select array[c.commit_position, c.prepare_position]
              from steller.projections p
              join steller.projection_checkpoints c on c.name = p.name and c.generation = p.active_generation
             where p.name = @name
            """, new { name = LedgerProjection.ProjectionName }, tx, cancellationToken: ct));
        if (checkpoint is not [var commit, var prepare])
            return (null, null, "Not compared: the ledger projection has not run yet (read.wallet_balances does not exist).", null);
        var rows = await conn.QueryAsync<ReadModelRow>(new CommandDefinition("""
            select account as Account, partner_id as PartnerId, currency as Currency, posted as Posted, pending as Pending,
                   available as Available, credit_limit as CreditLimit, frozen as Frozen
              from read.wallet_balances
            """, transaction: tx, cancellationToken: ct));
        var stopped = await conn.QuerySingleOrDefaultAsync<string?>(new CommandDefinition(
            "select error from steller.projection_faults where name = @name", new { name = LedgerProjection.ProjectionName }, tx,
            cancellationToken: ct));
        await tx.CommitAsync(ct);
        var position = new LogPosition((ulong)commit, (ulong)prepare);
        return (rows.ToDictionary(r => r.Account, StringComparer.Ordinal), position,
            $"Compared with read.wallet_balances at its checkpoint {position}.", stopped);
    }
}
