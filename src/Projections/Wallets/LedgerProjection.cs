using Dapper;
using Steller.Application.EventStore;
using Steller.Application.Serialization;
using Steller.Domain.Vendors;
using Steller.Domain.Wallets;
using Steller.Projections.Engine;
using Steller.Projections.Wallets;

namespace Steller.Projections.Wallets;

/// <summary>
/// The ledger read models, from wallet events and vendor account events (finance's top-ups, vendors' reversals):
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
    private readonly EventTypeRegistry registry = ProjectionEvents.Registry;

    public string Name => ProjectionName;
    public int Version => 1;
    public IReadOnlySet<string>? EventTypes => LedgerStreams.EventTypes;
    public IReadOnlyList<string> Tables { get; } = ["wallet_balances", "ledger_entries", "ledger_holds"];

    /// <summary>
    /// Financial: balances, entries (statements read them) and holds stop at an event they cannot apply, and alert, instead
    /// of parking it: a wrong balance is worse than a stale one.
    /// </summary>
    public OnPoisonEvent OnPoison => OnPoisonEvent.Stop;

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
            kind             text        not null,     -- deposit, withdrawal, capture, refund, transfer-out, transfer-in, transfer-returned,
                                                       -- vendor-top-up, vendor-refund
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

    public IReadOnlyList<ReadViewDoc> Docs { get; } =
    [
        new("wallet_balances", "One row per ledger account: partner wallets and platform accounts (docs/finance.md). Balance = credits − debits, minor units of the account's currency.",
            ("account", "The account: wallet:{partner}:{ccy}, platform:funding:{ccy}, platform:revenue:{ccy}, platform:vendor:{vendor}:{ccy} or platform:transit:{ccy}."),
            ("partner_id", "The partner owning a wallet; null for platform accounts."),
            ("currency", "Currency of the account (ISO 4217)."),
            ("posted", "Balance: credits − debits of every posting so far."),
            ("pending", "Open holds (orders not settled yet); 0 for platform accounts."),
            ("available", "posted − pending (a wallet's credit limit is not included)."),
            ("credit_limit", "How far a wallet may spend below zero; 0 for platform accounts."),
            ("frozen", "True while the wallet is frozen (no spending)."),
            ("entries", "Postings on the account so far (rows in ledger_entries)."),
            ("last_commit_position", "Global log position (commit part) of the last event that touched the account."),
            ("last_prepare_position", "Global log position (prepare part) of the last event that touched the account."),
            ("last_revision", "Revision of the wallet's event stream last applied; null for platform accounts."),
            ("updated_at", "Recorded time (UTC) of the last event that touched the account.")),
        new("ledger_entries", "One row per side of every posting: each posting debits one account and credits another by the same amount, so each currency sums to zero.",
            ("account", "The account this side belongs to (see wallet_balances.account)."),
            ("commit_position", "Global log position (commit part) of the event that posted it."),
            ("prepare_position", "Global log position (prepare part) of the event that posted it."),
            ("leg", "Index of the posting within its event (a capture posts one leg per vendor and one for revenue)."),
            ("currency", "Currency (ISO 4217)."),
            ("partner_id", "The partner owning the account; null for platform accounts."),
            ("amount", "Signed, minor units: + credit, − debit of this account."),
            ("balance_after", "The account's balance after this entry."),
            ("counter_account", "The account on the other side of the posting."),
            ("kind", "deposit, withdrawal, capture, refund, transfer-out, transfer-in, transfer-returned, vendor-top-up or vendor-refund."),
            ("transfer_id", "Id of the wallet transfer (hold, deposit, refund, ...) or of the vendor account movement."),
            ("order_id", "The order of a capture or refund (or the order a vendor refund names); null otherwise."),
            ("reference", "Deposit/withdrawal reference, refund's order, transfer counterparty or vendor movement reference; null otherwise."),
            ("stream_id", "The event's stream (wallet-{partner}-{ccy} or vendor-{vendor})."),
            ("stream_revision", "The event's revision in that stream."),
            ("event_id", "The event's id in the event store."),
            ("recorded_at", "When the event was recorded (UTC).")),
        new("ledger_holds", "Every hold placed on a wallet, with its order and outcome (links captures to orders). Minor units.",
            ("account", "The wallet: wallet:{partner}:{ccy}."),
            ("transfer_id", "The hold's id."),
            ("partner_id", "The partner."),
            ("currency", "Currency (ISO 4217)."),
            ("order_id", "The order it was placed for; null for a hold placed by hand."),
            ("amount", "Amount held."),
            ("captured", "Amount captured when it settled (0 until then, or when released)."),
            ("status", "open, captured or released."),
            ("expires_at", "When an open hold is given back by itself (UTC); null: no expiry."),
            ("placed_at", "When it was placed (UTC)."),
            ("closed_at", "When it was captured or released (UTC); null while open.")),
    ];

    /// <summary>One row of read.wallet_balances.</summary>
    public sealed class Balance
    {
        public required string Account;
        public string? PartnerId;
        public required string Currency;
        public long Posted, Pending, CreditLimit, Entries, Commit, Prepare;
        public bool Frozen;
        public long? Revision;
        public DateTime UpdatedAt;
        public Balance Copy() => (Balance)MemberwiseClone();
    }

    /// <summary>One row of read.ledger_holds.</summary>
    public sealed class HoldRow
    {
        public required string Account, TransferId, PartnerId, Currency;
        public string? OrderId;
        public long Amount, Captured;
        public string Status = "open";
        public DateTime? ExpiresAt, ClosedAt;
        public DateTime PlacedAt;
        public HoldRow Copy() => (HoldRow)MemberwiseClone();
    }

    /// <summary>One row of read.ledger_entries.</summary>
    public sealed record Entry(string Account, long Commit, long Prepare, int Leg, string Currency, string? PartnerId, long Amount,
        long BalanceAfter, string CounterAccount, string Kind, string TransferId, string? OrderId, string? Reference,
        string StreamId, long Revision, Guid EventId, DateTime RecordedAt);

    /// <summary>An event the ledger folds, in log order.</summary>
    public abstract record LedgerEvent(RecordedEvent Recorded);

    /// <summary>A wallet event of the batch with its wallet: partner, currency and ledger account.</summary>
    public sealed record WalletEvent(RecordedEvent Recorded, IWalletEvent Event, string Partner, string Currency, string Wallet)
        : LedgerEvent(Recorded);

    /// <summary>A vendor account event (top-up, reversal) of the batch: one posting between platform accounts.</summary>
    public sealed record VendorEvent(RecordedEvent Recorded, IVendorAccountEvent Event, string Vendor) : LedgerEvent(Recorded);

    /// <summary>What the batch writes: every touched balance as it stands after the batch, the new entries, the changed holds.</summary>
    public sealed record Changes(IReadOnlyList<Balance> Balances, IReadOnlyList<Entry> Entries, IReadOnlyList<HoldRow> Holds);

    public async Task Apply(IReadOnlyList<RecordedEvent> events, ProjectionContext context)
    {
        var ledgerEvents = new List<LedgerEvent>();
        foreach (var e in events)
        {
            if (VendorAccountStreams.Read(registry, e) is { } ve)
            {
                VendorAccount.TryParseStreamName(e.StreamId, out var vendor);
                ledgerEvents.Add(new VendorEvent(e, ve, vendor));
                continue;
            }
            if (WalletStreams.Read(registry, e) is not { } we) continue;
            if (!Wallet.TryParseStreamName(e.StreamId, out var partner, out var currency))
                throw new InvalidDataException($"Wallet event {e.Type} in stream '{e.StreamId}', which is not named "
                    + $"wallet-{{partnerId}}-{{currency}}.");
            ledgerEvents.Add(new WalletEvent(e, we, partner, currency, Accounts.Wallet(partner, currency)));
        }
        if (ledgerEvents.Count == 0) return;
        var (balances, holds) = await Load(ledgerEvents, context);
        await Write(Fold(balances, holds, ledgerEvents), context);
    }

    /// <summary>The balances of every account the batch posts to, and the holds it closes.</summary>
    private static async Task<(Dictionary<string, Balance>,
        Dictionary<(string, string), HoldRow>)> Load(IReadOnlyList<LedgerEvent> ledgerEvents,
        ProjectionContext context)
    {
        var touched = ledgerEvents.SelectMany(l => l switch
            {
                WalletEvent w => Wallet.Postings(w.Wallet, w.Event).SelectMany(p => new[] { p.Debit, p.Credit }).Append(w.Wallet),
                VendorEvent v => VendorAccount.Postings(v.Event).SelectMany(p => new[] { p.Debit, p.Credit }),
                _ => [],
            }).Distinct(StringComparer.Ordinal).ToArray();
        var walletEvents = ledgerEvents.OfType<WalletEvent>().ToList();
        var balances = (await context.Query<Balance>($"""
                select account as Account, partner_id as PartnerId, currency as Currency, posted as Posted, pending as Pending,
                       credit_limit as CreditLimit, entries as Entries, last_commit_position as Commit, last_prepare_position as Prepare,
                       frozen as Frozen, last_revision as Revision, updated_at as UpdatedAt
                  from {context.Schema}.wallet_balances where account = any(@touched)
                """, new { touched }))
            .ToDictionary(b => b.Account, StringComparer.Ordinal);

        var holdKeys = ColumnArrays.Of(walletEvents.Select(w => w.Event switch
            {
                HoldPlaced h => (w.Wallet, h.TransferId),
                HoldCaptured c => (w.Wallet, c.TransferId),
                HoldReleased r => (w.Wallet, r.TransferId),
                _ => default,
            }).Where(k => k.Wallet is not null).Distinct().ToList())
            .With("account", k => k.Wallet).With("transfer_id", k => k.TransferId);
        var holds = new Dictionary<(string, string), HoldRow>();
        if (holdKeys.Count > 0)
            foreach (var h in await context.Query<HoldRow>($"""
                    select h.account as Account, h.transfer_id as TransferId, h.partner_id as PartnerId, h.currency as Currency, h.order_id as OrderId,
                           h.amount as Amount, h.captured as Captured, h.status as Status, h.expires_at as ExpiresAt, h.closed_at as ClosedAt,
                           h.placed_at as PlacedAt
                      from {context.Schema}.ledger_holds h
                      join {holdKeys.Unnest("k")} on k.account = h.account and k.transfer_id = h.transfer_id
                    """, holdKeys.Parameters))
                holds[(h.Account, h.TransferId)] = h;
        return (balances, holds);
    }

    /// <summary>
    /// The pure fold: the loaded balances and holds (left unchanged) and the batch's wallet events in log order, to the
    /// rows to write: each event moves its wallet's pending, limit and frozen flag and posts its legs, two entries a leg.
    /// </summary>
    public static Changes Fold(IReadOnlyDictionary<string, Balance> loadedBalances,
        IReadOnlyDictionary<(string, string), HoldRow> loadedHolds, IEnumerable<LedgerEvent> ledgerEvents)
    {
        var balances = loadedBalances.ToDictionary(b => b.Key, b => b.Value.Copy(), StringComparer.Ordinal);
        var holds = loadedHolds.ToDictionary(h => h.Key, h => h.Value.Copy());
        var changedHolds = new HashSet<(string, string)>();
        var entries = new List<Entry>();
        // Checked: a balance past Int64 stops the ledger (OverflowException; its policy is Stop) instead of wrapping.
        checked
        {
            foreach (var ledgerEvent in ledgerEvents)
            {
                if (ledgerEvent is VendorEvent v)
                {
                    Post(balances, entries, v.Recorded, VendorAccount.Postings(v.Event), v.Event.Currency,
                        v.Event is VendorToppedUp ? "vendor-top-up" : "vendor-refund", v.Event.Reference,
                        (v.Event as VendorRefunded)?.OrderId, v.Vendor);
                    continue;
                }
                var (recorded, e, partner, currency, walletAccount) = (WalletEvent)ledgerEvent;
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
                Post(balances, entries, recorded, Wallet.Postings(walletAccount, e), currency, kind, transferId, orderId, reference);
            }
        }
        return new Changes(balances.Values.ToList(), entries, changedHolds.Select(k => holds[k]).ToList());
    }

    /// <summary>Posts the legs of one event: two entries a leg, each with the running balance of its account.</summary>
    private static void Post(Dictionary<string, Balance> balances, List<Entry> entries, RecordedEvent recorded, IEnumerable<Posting> postings,
        string currency, string kind, string transferId, string? orderId, string? reference)
    {
        checked
        {
            var at = recorded.Metadata.RecordedAt.UtcDateTime;
            var commit = (long)recorded.Position.Commit;
            var prepare = (long)recorded.Position.Prepare;
            var leg = 0;
            foreach (var p in postings)
            {
                var debit = Get(balances, p.Debit, OwnerOf(p.Debit), currency);
                var credit = Get(balances, p.Credit, OwnerOf(p.Credit), currency);
                debit.Posted -= p.Amount; debit.Entries++; Touch(debit, commit, prepare, at);
                credit.Posted += p.Amount; credit.Entries++; Touch(credit, commit, prepare, at);
                entries.Add(new Entry(debit.Account, commit, prepare, leg, currency, debit.PartnerId, -p.Amount, debit.Posted,
                    credit.Account,
                    kind, transferId, orderId, reference, recorded.StreamId, recorded.Revision.Value, recorded.EventId, at));
                entries.Add(new Entry(credit.Account, commit, prepare, leg, currency, credit.PartnerId, p.Amount, credit.Posted,
                    debit.Account, kind, transferId, orderId, reference, recorded.StreamId, recorded.Revision.Value, recorded.EventId, at));
                leg++;
            }
        }
    }

    /// <summary>One statement per table.</summary>
    private static async Task Write(Changes changes, ProjectionContext context)
    {
        var balances = ColumnArrays.Of(changes.Balances)
            .With("account", r => r.Account).With("partner_id", r => r.PartnerId).With("currency", r => r.Currency)
            .With("posted", r => r.Posted).With("pending", r => r.Pending).With("credit_limit", r => r.CreditLimit)
            .With("frozen", r => r.Frozen).With("entries", r => r.Entries).With("last_commit_position", r => r.Commit)
            .With("last_prepare_position", r => r.Prepare).With("last_revision", r => r.Revision).With("updated_at", r => r.UpdatedAt);
        await context.Execute($$"""
            insert into {schema}.wallet_balances as b ({{balances.Columns}}, available)
            select {{balances.Columns}}, posted - pending from {{balances.Unnest()}}
            on conflict (account) do update set
                posted = excluded.posted, pending = excluded.pending, available = excluded.available, credit_limit = excluded.credit_limit,
                frozen = excluded.frozen, entries = excluded.entries, last_commit_position = excluded.last_commit_position,
                last_prepare_position = excluded.last_prepare_position, last_revision = excluded.last_revision, updated_at = excluded.updated_at
            """, balances.Parameters);

        if (changes.Entries.Count > 0)
        {
            var entries = ColumnArrays.Of(changes.Entries)
                .With("account", r => r.Account).With("commit_position", r => r.Commit).With("prepare_position", r => r.Prepare)
                .With("leg", r => r.Leg).With("currency", r => r.Currency).With("partner_id", r => r.PartnerId)
                .With("amount", r => r.Amount)
                .With("balance_after", r => r.BalanceAfter).With("counter_account", r => r.CounterAccount).With("kind", r => r.Kind)
                .With("transfer_id", r => r.TransferId).With("order_id", r => r.OrderId).With("reference", r => r.Reference)
                .With("stream_id", r => r.StreamId).With("stream_revision", r => r.Revision).With("event_id", r => r.EventId)
                .With("recorded_at", r => r.RecordedAt);
            await context.Execute($"insert into {{schema}}.ledger_entries ({entries.Columns}) select * from {entries.Unnest()}",
                entries.Parameters);
        }

        if (changes.Holds.Count > 0)
        {
            var holds = ColumnArrays.Of(changes.Holds)
                .With("account", h => h.Account).With("transfer_id", h => h.TransferId).With("partner_id", h => h.PartnerId)
                .With("currency", h => h.Currency).With("order_id", h => h.OrderId).With("amount", h => h.Amount)
                .With("captured", h => h.Captured).With("status", h => h.Status).With("expires_at", h => h.ExpiresAt)
                .With("placed_at", h => h.PlacedAt).With("closed_at", h => h.ClosedAt);
            await context.Execute($$"""
                insert into {schema}.ledger_holds as h ({{holds.Columns}}) select * from {{holds.Unnest()}}
                on conflict (account, transfer_id) do update set
                    captured = excluded.captured, status = excluded.status, closed_at = excluded.closed_at
                """, holds.Parameters);
        }
    }

    private static Balance Get(Dictionary<string, Balance> balances, string account, string? partnerId, string currency)
    {
        if (!balances.TryGetValue(account, out var b))
            balances[account] = b = new Balance { Account = account, PartnerId = partnerId,
                Currency = Accounts.CurrencyOf(account) is { Length: 3 } c ? c : currency };
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
        TransferReturned t => ("transfer-returned", t.TransferId, t.ToPartnerId),
        _ => ("", "", null),
    };
}
