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
/// A difference: <see cref="Field"/> of <see cref="Account"/> is <see cref="Actual"/> in the read model, <see
/// cref="Expected"/> in the event store.
/// </summary>
public sealed record LedgerDrift(string Account, string Field, string Expected, string Actual, string Message);

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
    IReadOnlyList<LedgerDrift> Drifts)
{
    public bool Clean => Drifts.Count == 0;
}

/// <summary>
/// Finance's proof of the ledger: folds every wallet from the event store (<see cref="LedgerReplay"/>), checks that every
/// currency sums to zero, that each wallet's own posted balance equals its postings, and compares every account with
/// read.wallet_balances. The read model is read first, with its checkpoint, and the replay stops at that checkpoint, so
/// a projection that is merely behind is not reported as drift. With an as-of instant nothing is compared.
/// </summary>
public sealed class LedgerAudit(LedgerReplay replay, NpgsqlDataSource dataSource)
{
    private sealed record ReadModelRow(string Account, string? PartnerId, string Currency, long Posted, long Pending, long Available,
        long CreditLimit, bool Frozen);

    public async Task<LedgerAuditReport> Run(DateTimeOffset? asOf = null, IProgress<ReplayProgress>? progress = null,
        CancellationToken ct = default)
    {
        Dictionary<string, ReadModelRow>? readModel = null;
        LogPosition? upTo = null;
        string? note = null;
        if (asOf is null)
        {
            (readModel, upTo, note) = await LoadReadModel(ct);
        }
        else note = "Not compared with read.wallet_balances: the read model holds current balances, not balances as of an instant.";

        var snapshot = await replay.Fold(asOf, upTo, progress, ct);
        var drifts = new List<LedgerDrift>();

        foreach (var f in snapshot.Faults)
            drifts.Add(new LedgerDrift(Accounts.Wallet(Wallet.TryParseStreamName(f.StreamId, out var p, out var c) ? p : f.StreamId, c),
                "stream", "foldable", $"revision {f.Revision}",
                $"{f.StreamId} revision {f.Revision} ({f.Type} at {f.Position}) {f.Error}; the rest of the stream is left out of "
                    + $"the replay."));

        var currencies = snapshot.CurrencyTotals.Select(t => new CurrencyTotal(t.Key, t.Value, t.Value == 0)).ToList();
        foreach (var c in currencies.Where(c => !c.Balanced))
            drifts.Add(new LedgerDrift($"*:{c.Currency}", "sum", "0",
                c.Sum.ToString(), $"The accounts in {c.Currency} sum to {c.Sum}, not zero."));

        var wallets = snapshot.Wallets.Values.ToDictionary(w => w.Account, StringComparer.Ordinal);
        foreach (var w in wallets.Values)
        {
            var fromPostings = snapshot.Balances.GetValueOrDefault(w.Account);
            if (w.State.Posted != fromPostings)
                drifts.Add(new LedgerDrift(w.Account, "posted", fromPostings.ToString(), w.State.Posted.ToString(),
                    $"The wallet's folded posted balance {w.State.Posted} differs from the sum of its postings {fromPostings}."));
        }

        var accounts = new List<AuditedAccount>();
        foreach (var (account, balance) in snapshot.Balances.OrderBy(b => b.Key, StringComparer.Ordinal))
        {
            wallets.TryGetValue(account, out var w);
            ReadModelRow? row = null;
            readModel?.TryGetValue(account, out row);
            var pending = w?.State.Pending ?? 0;
            accounts.Add(new AuditedAccount(account, w?.PartnerId ?? LedgerProjection.OwnerOf(account), Accounts.CurrencyOf(account),
                balance, pending, checked(balance - pending), w?.State.CreditLimit ?? 0, w?.State.Frozen ?? false, row?.Posted, row?.Pending));
            if (readModel is null) continue;
            if (row is null)
            {
                drifts.Add(new LedgerDrift(account, "row", "present",
                    "missing", $"{account} has postings in the event store but no row in read.wallet_balances."));
                continue;
            }
            Compare(drifts, account, "posted", balance, row.Posted);
            Compare(drifts, account, "available", balance - pending, row.Available);
            if (w is null) continue;
            Compare(drifts, account, "pending", pending, row.Pending);
            Compare(drifts, account, "credit_limit", w.State.CreditLimit, row.CreditLimit);
            if (w.State.Frozen != row.Frozen)
                drifts.Add(new LedgerDrift(account, "frozen", w.State.Frozen.ToString().ToLowerInvariant(), row.Frozen.ToString()
                    .ToLowerInvariant(),
                    $"{account} is {(w.State.Frozen ? "" : "not ")}frozen in the event store but the read model says otherwise."));
        }
        if (readModel is not null)
            foreach (var extra in readModel.Values.Where(r => !snapshot.Balances.ContainsKey(r.Account)))
                drifts.Add(new LedgerDrift(extra.Account, "row", "absent", "present",
                    $"read.wallet_balances has a row for {extra.Account} (posted {extra.Posted}) that no event in the store explains."));

        return new LedgerAuditReport(asOf, snapshot.Position.ToString(), snapshot.EventsRead, snapshot.WalletEvents, snapshot.Postings,
            readModel is not null, note, currencies, accounts, drifts);
    }

    private static void Compare(List<LedgerDrift> drifts, string account, string field, long expected, long actual)
    {
        if (expected != actual)
            drifts.Add(new LedgerDrift(account, field, expected.ToString(), actual.ToString(),
                $"{account}: {field} is {actual} in read.wallet_balances but {expected} in the event store (difference "
                    + $"{(decimal)actual - expected})."));
    }

    /// <summary>The read model and the log position it covers, read in one snapshot.</summary>
    private async Task<(Dictionary<string, ReadModelRow>?, LogPosition?, string?)> LoadReadModel(CancellationToken ct)
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
            return (null, null, "Not compared: the ledger projection has not run yet (read.wallet_balances does not exist).");
        var rows = await conn.QueryAsync<ReadModelRow>(new CommandDefinition("""
            select account as Account, partner_id as PartnerId, currency as Currency, posted as Posted, pending as Pending,
                   available as Available, credit_limit as CreditLimit, frozen as Frozen
              from read.wallet_balances
            """, transaction: tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        var position = new LogPosition((ulong)commit, (ulong)prepare);
        return (rows.ToDictionary(r => r.Account, StringComparer.Ordinal), position,
            $"Compared with read.wallet_balances at its checkpoint {position}.");
    }
}
