using Dapper;
using Steller.Application.EventStore;
using Steller.Application.Serialization;
using Steller.Domain.Wallets;
using Steller.Projections.Engine;
using Steller.Projections.Wallets;

namespace Steller.Projections.Wallets;

/// <summary>
/// The ledger read models, from wallet events:
/// <list type="bullet">
/// <item>read.wallet_balances — one row per ledger account: partner wallets (posted, pending, available, credit limit,
/// frozen) and platform accounts (funding, revenue, vendor payables, transit; partner_id null). Balance = credits − debits.</item>
/// <item>read.ledger_entries — one row per side of every posting, with the running balance of its account.</item>
/// <item>read.ledger_holds — every hold with its order id and outcome (links captures to orders).</item>
/// </list>
/// One projection, so the running balances, holds and balances move in the same transaction. Per batch: one read of
/// the touched accounts and holds, a fold in memory, then one statement per table.
/// </summary>
public sealed class LedgerProjection : IProjection
{
    public const string ProjectionName = "ledger";
    private readonly EventTypeRegistry registry = EventTypeRegistry.ForDomain();

    public string Name => ProjectionName;
    public int Version => 1;
    public IReadOnlySet<string>? EventTypes => WalletStreams.EventTypes;
    public IReadOnlyList<string> Tables { get; } = ["wallet_balances", "ledger_entries", "ledger_holds"];

    public string CreateTablesSql(string schema) => $"""
        create table {schema}.wallet_balances (
            account          text        primary key,  -- wallet:{'{'}partner{'}'}:{'{'}ccy{'}'} or platform:...
            partner_id       text,                     -- null for platform accounts
            currency         text        not null,
            posted           bigint      not null,     -- credits - debits
            pending          bigint      not null,     -- open holds
            available        bigint      not null,     -- posted - pending
            credit_limit     bigint      not null,
            frozen           boolean     not null,
            entries          bigint      not null,
            last_commit_position  bigint not null,
            last_prepare_position bigint not null,
            last_revision    bigint,                   -- the wallet stream's revision (null for platform accounts)
            updated_at       timestamptz not null
        );
        create index on {schema}.wallet_balances (partner_id, currency);

        create table {schema}.ledger_entries (
            account          text        not null,
            commit_position  bigint      not null,
            prepare_position bigint      not null,
            leg              int         not null,     -- index of the posting within its event
            currency         text        not null,
            partner_id       text,
            amount           bigint      not null,     -- signed: + credit, - debit of this account
            balance_after    bigint      not null,     -- running balance of this account
            counter_account  text        not null,
            kind             text        not null,     -- deposit, withdrawal, capture, transfer-out, transfer-in
            transfer_id      text        not null,
            order_id         text,
            reference        text,
            stream_id        text        not null,
            stream_revision  bigint      not null,
            event_id         uuid        not null,
            recorded_at      timestamptz not null,
            primary key (account, commit_position, prepare_position, leg)
        );
        create index on {schema}.ledger_entries (account, recorded_at);
        create index on {schema}.ledger_entries (transfer_id);
        create index on {schema}.ledger_entries (order_id) where order_id is not null;

        create table {schema}.ledger_holds (
            account          text        not null,
            transfer_id      text        not null,
            partner_id       text        not null,
            currency         text        not null,
            order_id         text,
            amount           bigint      not null,
            captured         bigint      not null,
            status           text        not null,     -- open, captured, released
            expires_at       timestamptz,
            placed_at        timestamptz not null,
            closed_at        timestamptz,
            primary key (account, transfer_id)
        );
        create index on {schema}.ledger_holds (order_id) where order_id is not null;
        """;

    private sealed class Balance
    {
        public required string Account;
        public string? PartnerId;
        public required string Currency;
        public long Posted, Pending, CreditLimit, Entries, Commit, Prepare;
        public bool Frozen;
        public long? Revision;
        public DateTime UpdatedAt;
    }

    private sealed class HoldRow
    {
        public required string Account, TransferId, PartnerId, Currency;
        public string? OrderId;
        public long Amount, Captured;
        public string Status = "open";
        public DateTime? ExpiresAt, ClosedAt;
        public DateTime PlacedAt;
    }

    private sealed record Entry(string Account, long Commit, long Prepare, int Leg, string Currency, string? PartnerId, long Amount,
        long BalanceAfter, string CounterAccount, string Kind, string TransferId, string? OrderId, string? Reference,
        string StreamId, long Revision, Guid EventId, DateTime RecordedAt);

    public async Task Apply(IReadOnlyList<RecordedEvent> events, ProjectionContext context)
    {
        var walletEvents = new List<(RecordedEvent Recorded, IWalletEvent Event, string Partner, string Currency, string Wallet)>();
        foreach (var e in events)
        {
            if (WalletStreams.Read(registry, e) is not { } we) continue;
            if (!Wallet.TryParseStreamName(e.StreamId, out var partner, out var currency))
                throw new InvalidDataException($"Wallet event {e.Type} in stream '{e.StreamId}', which is not named wallet-{{partnerId}}-{{currency}}.");
            walletEvents.Add((e, we, partner, currency, Accounts.Wallet(partner, currency)));
        }
        if (walletEvents.Count == 0) return;

        // 1. Load what the batch touches.
        var touched = walletEvents.SelectMany(w => Wallet.Postings(w.Wallet, w.Event).SelectMany(p => new[] { p.Debit, p.Credit }).Append(w.Wallet))
            .Distinct(StringComparer.Ordinal).ToArray();
        var balances = (await context.Connection.QueryAsync<Balance>(new CommandDefinition($"""
                select account as Account, partner_id as PartnerId, currency as Currency, posted as Posted, pending as Pending,
                       credit_limit as CreditLimit, entries as Entries, last_commit_position as Commit, last_prepare_position as Prepare,
                       frozen as Frozen, last_revision as Revision, updated_at as UpdatedAt
                  from {context.Schema}.wallet_balances where account = any(@touched)
                """, new { touched }, context.Transaction, cancellationToken: context.CancellationToken)))
            .ToDictionary(b => b.Account, StringComparer.Ordinal);

        var holdKeys = walletEvents.Select(w => w.Event switch
        {
            HoldPlaced h => (w.Wallet, h.TransferId),
            HoldCaptured c => (w.Wallet, c.TransferId),
            HoldReleased r => (w.Wallet, r.TransferId),
            _ => default,
        }).Where(k => k.Wallet is not null).Distinct().ToArray();
        var holds = new Dictionary<(string, string), HoldRow>();
        if (holdKeys.Length > 0)
            foreach (var h in await context.Connection.QueryAsync<HoldRow>(new CommandDefinition($"""
                    select h.account as Account, h.transfer_id as TransferId, h.partner_id as PartnerId, h.currency as Currency, h.order_id as OrderId,
                           h.amount as Amount, h.captured as Captured, h.status as Status, h.expires_at as ExpiresAt, h.closed_at as ClosedAt, h.placed_at as PlacedAt
                      from {context.Schema}.ledger_holds h
                      join unnest(@accounts, @transfers) k(account, transfer_id) on k.account = h.account and k.transfer_id = h.transfer_id
                    """, new { accounts = holdKeys.Select(k => k.Wallet).ToArray(), transfers = holdKeys.Select(k => k.TransferId).ToArray() },
                    context.Transaction, cancellationToken: context.CancellationToken)))
                holds[(h.Account, h.TransferId)] = h;
        var changedHolds = new HashSet<(string, string)>();

        // 2. Fold the batch in log order.
        var entries = new List<Entry>();
        foreach (var (recorded, e, partner, currency, walletAccount) in walletEvents)
        {
            var at = recorded.Metadata.RecordedAt.UtcDateTime;
            var commit = (long)recorded.Position.Commit;
            var prepare = (long)recorded.Position.Prepare;
            var wallet = Get(balances, walletAccount, partner, currency);
            wallet.Revision = recorded.Revision.Value;
            Touch(wallet, commit, prepare, at);

            string? orderId = null;
            switch (e)
            {
                case HoldPlaced h:
                    wallet.Pending += h.Amount;
                    holds[(walletAccount, h.TransferId)] = new HoldRow
                    {
                        Account = walletAccount, TransferId = h.TransferId, PartnerId = partner, Currency = currency, OrderId = h.OrderId,
                        Amount = h.Amount, ExpiresAt = h.ExpiresAt?.UtcDateTime, PlacedAt = at,
                    };
                    changedHolds.Add((walletAccount, h.TransferId));
                    break;
                case HoldCaptured c:
                    wallet.Pending -= c.Amount + c.Released;
                    if (holds.TryGetValue((walletAccount, c.TransferId), out var captured))
                    {
                        captured.Status = "captured";
                        captured.Captured = c.Amount;
                        captured.ClosedAt = at;
                        orderId = captured.OrderId;
                        changedHolds.Add((walletAccount, c.TransferId));
                    }
                    break;
                case HoldReleased r:
                    wallet.Pending -= r.Amount;
                    if (holds.TryGetValue((walletAccount, r.TransferId), out var released))
                    {
                        released.Status = "released";
                        released.ClosedAt = at;
                        changedHolds.Add((walletAccount, r.TransferId));
                    }
                    break;
                case CreditLimitSet l: wallet.CreditLimit = l.Limit; break;
                case WalletFrozen: wallet.Frozen = true; break;
                case WalletUnfrozen: wallet.Frozen = false; break;
            }

            var (kind, transferId, reference) = Describe(e);
            var leg = 0;
            foreach (var p in Wallet.Postings(walletAccount, e))
            {
                var debit = Get(balances, p.Debit, OwnerOf(p.Debit), currency);
                var credit = Get(balances, p.Credit, OwnerOf(p.Credit), currency);
                debit.Posted -= p.Amount; debit.Entries++; Touch(debit, commit, prepare, at);
                credit.Posted += p.Amount; credit.Entries++; Touch(credit, commit, prepare, at);
                entries.Add(new Entry(debit.Account, commit, prepare, leg, currency, debit.PartnerId, -p.Amount, debit.Posted, credit.Account,
                    kind, transferId, orderId, reference, recorded.StreamId, recorded.Revision.Value, recorded.EventId, at));
                entries.Add(new Entry(credit.Account, commit, prepare, leg, currency, credit.PartnerId, p.Amount, credit.Posted, debit.Account,
                    kind, transferId, orderId, reference, recorded.StreamId, recorded.Revision.Value, recorded.EventId, at));
                leg++;
            }
        }

        // 3. One statement per table.
        var rows = balances.Values.ToArray();
        await context.Execute("""
            insert into {schema}.wallet_balances as b (account, partner_id, currency, posted, pending, available, credit_limit, frozen, entries,
                                                      last_commit_position, last_prepare_position, last_revision, updated_at)
            select a, p, c, posted, pending, posted - pending, lim, frozen, n, cp, pp, rev, at
              from unnest(@accounts, @partners, @currencies, @posted, @pending, @limits, @frozen, @entries, @commits, @prepares, @revisions, @times)
                   as u(a, p, c, posted, pending, lim, frozen, n, cp, pp, rev, at)
            on conflict (account) do update set
                posted = excluded.posted, pending = excluded.pending, available = excluded.available, credit_limit = excluded.credit_limit,
                frozen = excluded.frozen, entries = excluded.entries, last_commit_position = excluded.last_commit_position,
                last_prepare_position = excluded.last_prepare_position, last_revision = excluded.last_revision, updated_at = excluded.updated_at
            """, new
        {
            accounts = rows.Select(r => r.Account).ToArray(),
            partners = rows.Select(r => r.PartnerId).ToArray(),
            currencies = rows.Select(r => r.Currency).ToArray(),
            posted = rows.Select(r => r.Posted).ToArray(),
            pending = rows.Select(r => r.Pending).ToArray(),
            limits = rows.Select(r => r.CreditLimit).ToArray(),
            frozen = rows.Select(r => r.Frozen).ToArray(),
            entries = rows.Select(r => r.Entries).ToArray(),
            commits = rows.Select(r => r.Commit).ToArray(),
            prepares = rows.Select(r => r.Prepare).ToArray(),
            revisions = rows.Select(r => r.Revision).ToArray(),
            times = rows.Select(r => r.UpdatedAt).ToArray(),
        });

        if (entries.Count > 0)
            await context.Execute("""
                insert into {schema}.ledger_entries (account, commit_position, prepare_position, leg, currency, partner_id, amount, balance_after,
                    counter_account, kind, transfer_id, order_id, reference, stream_id, stream_revision, event_id, recorded_at)
                select * from unnest(@accounts, @commits, @prepares, @legs, @currencies, @partners, @amounts, @balances,
                    @counters, @kinds, @transfers, @orders, @references, @streams, @revisions, @eventIds, @times)
                """, new
            {
                accounts = entries.Select(r => r.Account).ToArray(),
                commits = entries.Select(r => r.Commit).ToArray(),
                prepares = entries.Select(r => r.Prepare).ToArray(),
                legs = entries.Select(r => r.Leg).ToArray(),
                currencies = entries.Select(r => r.Currency).ToArray(),
                partners = entries.Select(r => r.PartnerId).ToArray(),
                amounts = entries.Select(r => r.Amount).ToArray(),
                balances = entries.Select(r => r.BalanceAfter).ToArray(),
                counters = entries.Select(r => r.CounterAccount).ToArray(),
                kinds = entries.Select(r => r.Kind).ToArray(),
                transfers = entries.Select(r => r.TransferId).ToArray(),
                orders = entries.Select(r => r.OrderId).ToArray(),
                references = entries.Select(r => r.Reference).ToArray(),
                streams = entries.Select(r => r.StreamId).ToArray(),
                revisions = entries.Select(r => r.Revision).ToArray(),
                eventIds = entries.Select(r => r.EventId).ToArray(),
                times = entries.Select(r => r.RecordedAt).ToArray(),
            });

        if (changedHolds.Count > 0)
        {
            var hs = changedHolds.Select(k => holds[k]).ToArray();
            await context.Execute("""
                insert into {schema}.ledger_holds as h (account, transfer_id, partner_id, currency, order_id, amount, captured, status, expires_at, placed_at, closed_at)
                select * from unnest(@accounts, @transfers, @partners, @currencies, @orders, @amounts, @captured, @statuses, @expires, @placed, @closed)
                on conflict (account, transfer_id) do update set
                    captured = excluded.captured, status = excluded.status, closed_at = excluded.closed_at
                """, new
            {
                accounts = hs.Select(h => h.Account).ToArray(),
                transfers = hs.Select(h => h.TransferId).ToArray(),
                partners = hs.Select(h => h.PartnerId).ToArray(),
                currencies = hs.Select(h => h.Currency).ToArray(),
                orders = hs.Select(h => h.OrderId).ToArray(),
                amounts = hs.Select(h => h.Amount).ToArray(),
                captured = hs.Select(h => h.Captured).ToArray(),
                statuses = hs.Select(h => h.Status).ToArray(),
                expires = hs.Select(h => h.ExpiresAt).ToArray(),
                placed = hs.Select(h => h.PlacedAt).ToArray(),
                closed = hs.Select(h => h.ClosedAt).ToArray(),
            });
        }
    }

    private static Balance Get(Dictionary<string, Balance> balances, string account, string? partnerId, string currency)
    {
        if (!balances.TryGetValue(account, out var b))
            balances[account] = b = new Balance { Account = account, PartnerId = partnerId, Currency = Accounts.CurrencyOf(account) is { Length: 3 } c ? c : currency };
        return b;
    }

    private static void Touch(Balance b, long commit, long prepare, DateTime at)
    {
        b.Commit = commit;
        b.Prepare = prepare;
        b.UpdatedAt = at;
    }

    /// <summary>The partner owning a wallet account ("wallet:{partner}:{ccy}"); null for platform accounts.</summary>
    public static string? OwnerOf(string account) =>
        account.StartsWith("wallet:", StringComparison.Ordinal) ? account["wallet:".Length..account.LastIndexOf(':')] : null;

    private static (string Kind, string TransferId, string? Reference) Describe(IWalletEvent e) => e switch
    {
        Deposited d => ("deposit", d.TransferId, d.Reference),
        Withdrawn w => ("withdrawal", w.TransferId, w.Reference),
        Refunded r => ("refund", r.TransferId, r.OrderId),
        HoldCaptured c => ("capture", c.TransferId, null),
        TransferredOut t => ("transfer-out", t.TransferId, t.ToPartnerId),
        TransferredIn t => ("transfer-in", t.TransferId, t.FromPartnerId),
        _ => ("", "", null),
    };
}
