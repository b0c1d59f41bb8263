using Steller.Application.EventStore;
using Steller.Application.Serialization;
using Steller.Domain.Vendors;
using Steller.Domain.Wallets;
using Steller.Projections.Engine;
using Steller.Projections.Wallets;

namespace Steller.Projections.Finance;

/// <summary>
/// read.pnl_monthly: per UTC month and currency, Steller's profit and loss from the ledger's own postings (the events the
/// ledger folds, read the way it reads them), so every figure agrees with read.ledger_entries:
/// <list type="bullet">
/// <item>sales — what partners paid: the amount of every capture (wallet.hold-captured.v1) in the month;</item>
/// <item>refunds — what was paid back to partners (wallet.refunded.v1); revenue = sales − refunds;</item>
/// <item>vendor_cost — the vendor legs of those captures (credits of platform:vendor:…);</item>
/// <item>vendor_refunds — what vendors gave back when they reversed a purchase (vendor.refunded.v1);</item>
/// <item>margin = revenue − vendor_cost + vendor_refunds: exactly how far platform:revenue:{ccy} moved in the month.</item>
/// </list>
/// A posting counts in the month it was recorded (its event's recorded time, as in read.ledger_entries), not the month
/// the order was placed. orders_completed counts captures of holds placed for an order: the projection keeps the open
/// order holds in pnl_monthly_order_holds to know. Sums are checked (a figure past Int64 stops the projection).
/// </summary>
public sealed class PnlMonthlyProjection : IProjection
{
    public const string ProjectionName = "pnl_monthly";
    private const string VendorAccountPrefix = "platform:vendor:";
    private readonly EventTypeRegistry registry = ProjectionEvents.Registry;

    public string Name => ProjectionName;
    public int Version => 1;

    public IReadOnlySet<string>? EventTypes { get; } = EventTypeSet.Union(EventNames.Of<HoldPlaced>(), EventNames.Of<HoldCaptured>(),
        EventNames.Of<HoldReleased>(), EventNames.Of<Refunded>(), EventNames.Of<VendorRefunded>());

    public IReadOnlyList<string> Tables { get; } = ["pnl_monthly", "pnl_monthly_order_holds"];

    /// <summary>Financial: a figure it cannot fold stops it (and alerts) rather than being skipped.</summary>
    public OnPoisonEvent OnPoison => OnPoisonEvent.Stop;

    public string CreateTablesSql(string schema) => $"""
        create table {schema}.pnl_monthly (
            month             date    not null,   -- first day of the UTC month the postings were recorded in
            currency          text    not null,
            orders_completed  bigint  not null,
            sales             bigint  not null,   -- Σ captures
            refunds           bigint  not null,   -- Σ refunds to partners
            revenue           bigint  generated always as (sales - refunds) stored,
            vendor_cost       bigint  not null,   -- Σ vendor legs of captures
            vendor_refunds    bigint  not null,   -- Σ vendor reversals
            margin            bigint  generated always as (sales - refunds - vendor_cost + vendor_refunds) stored,
            primary key (month, currency)
        );

        create table {schema}.pnl_monthly_order_holds (
            account      text  not null,          -- wallet:{'{'}partner{'}'}:{'{'}ccy{'}'}
            transfer_id  text  not null,
            order_id     text  not null,
            primary key (account, transfer_id)
        );
        """;

    public IReadOnlyList<ReadViewDoc> Docs { get; } =
    [
        new("pnl_monthly", "Profit and loss per UTC month and currency, from the ledger's postings (agrees with ledger_entries). Minor units of the currency; a posting counts in the month it was recorded.",
            ("month", "First day of the UTC month."),
            ("currency", "Currency (ISO 4217)."),
            ("orders_completed", "Orders settled in the month (completed or partially completed: their hold was captured)."),
            ("sales", "What partners paid for delivered units: Σ captures (debits of partner wallets)."),
            ("refunds", "What was refunded to partners (debits of platform:revenue)."),
            ("revenue", "sales − refunds: what partners paid, net of refunds."),
            ("vendor_cost", "What the delivered units cost at the vendors: Σ vendor legs of captures (credits of platform:vendor:{vendor})."),
            ("vendor_refunds", "What vendors gave back for purchases they reversed (credits of platform:revenue)."),
            ("margin", "revenue − vendor_cost + vendor_refunds: Steller's margin, equal to the month's movement of platform:revenue.")),
        new("pnl_monthly_order_holds", "Open wallet holds placed for an order (working data for pnl_monthly: a capture of one is a completed order).",
            ("account", "The wallet: wallet:{partner}:{ccy}."),
            ("transfer_id", "The hold's id."),
            ("order_id", "The order it was placed for.")),
    ];

    /// <summary>A wallet hold placed for an order.</summary>
    public readonly record struct OrderHold(string Account, string TransferId, string OrderId);

    public readonly record struct Key(DateOnly Month, string Currency);

    /// <summary>The figures of one row, also used as a delta.</summary>
    public record struct Figures(long OrdersCompleted, long Sales, long Refunds, long VendorCost, long VendorRefunds)
    {
        public static Figures operator +(Figures a, Figures b) => checked(new(a.OrdersCompleted + b.OrdersCompleted, a.Sales + b.Sales,
            a.Refunds + b.Refunds, a.VendorCost + b.VendorCost, a.VendorRefunds + b.VendorRefunds));
    }

    /// <summary>One event of the batch the P&amp;L reads: a wallet event with its wallet, or a vendor reversal.</summary>
    public sealed record PnlEvent(DateTimeOffset RecordedAt, string Currency, string? Wallet, object Event);

    /// <summary>What the batch writes: the rows' deltas, the order holds opened (still open) and those closed.</summary>
    public sealed record Changes(IReadOnlyDictionary<Key, Figures> Deltas, IReadOnlyList<OrderHold> Opened,
        IReadOnlyList<(string Account, string TransferId)> Closed);

    public async Task Apply(IReadOnlyList<RecordedEvent> events, ProjectionContext context)
    {
        var pnlEvents = new List<PnlEvent>();
        foreach (var e in events)
        {
            if (VendorAccountStreams.Read(registry, e) is VendorRefunded vr)
                pnlEvents.Add(new PnlEvent(e.Metadata.RecordedAt, vr.Currency, null, vr));
            else if (WalletStreams.Read(registry, e) is { } we && Wallet.TryParseStreamName(e.StreamId, out var partner, out var currency))
                pnlEvents.Add(new PnlEvent(e.Metadata.RecordedAt, currency, Accounts.Wallet(partner, currency), we));
        }
        if (pnlEvents.Count == 0) return;

        var keys = pnlEvents.Select(p => p.Event switch
            {
                HoldCaptured c => (p.Wallet!, c.TransferId),
                HoldReleased r => (p.Wallet!, r.TransferId),
                _ => default((string, string)?),
            }).OfType<(string Account, string TransferId)>().Distinct().ToList();
        var loaded = new List<OrderHold>();
        if (keys.Count > 0)
        {
            var wanted = ColumnArrays.Of(keys).With("account", k => k.Account).With("transfer_id", k => k.TransferId);
            loaded = (await context.Query<OrderHold>($"""
                select h.account as Account, h.transfer_id as TransferId, h.order_id as OrderId
                  from {context.Schema}.pnl_monthly_order_holds h
                  join {wanted.Unnest("k")} on k.account = h.account and k.transfer_id = h.transfer_id
                """, wanted.Parameters)).ToList();
        }
        await Write(Fold(loaded, pnlEvents), context);
    }

    /// <summary>The month a posting recorded at <paramref name="at"/> counts in (UTC).</summary>
    public static DateOnly MonthOf(DateTimeOffset at) => new(at.UtcDateTime.Year, at.UtcDateTime.Month, 1);

    /// <summary>
    /// The pure fold: the open order holds the batch closes (loaded from earlier batches) and the batch's events in log order,
    /// to how far each row moves and which order holds open or close.
    /// </summary>
    public static Changes Fold(IEnumerable<OrderHold> loadedHolds, IEnumerable<PnlEvent> events)
    {
        var open = loadedHolds.ToDictionary(h => (h.Account, h.TransferId));
        var opened = new Dictionary<(string, string), OrderHold>();
        var closed = new HashSet<(string, string)>();
        var deltas = new Dictionary<Key, Figures>();
        foreach (var p in events)
        {
            var key = new Key(MonthOf(p.RecordedAt), p.Currency);
            Figures? delta = null;
            switch (p.Event)
            {
                case HoldPlaced { OrderId: { } orderId } h:
                    var hold = new OrderHold(p.Wallet!, h.TransferId, orderId);
                    open[(hold.Account, hold.TransferId)] = hold;
                    opened[(hold.Account, hold.TransferId)] = hold;
                    closed.Remove((hold.Account, hold.TransferId));
                    break;
                case HoldCaptured c:
                    var forOrder = Close(p.Wallet!, c.TransferId);
                    long vendorCost = 0;
                    foreach (var leg in c.Legs)
                        if (leg.Account.StartsWith(VendorAccountPrefix, StringComparison.Ordinal)) vendorCost = checked(vendorCost + leg.Amount);
                    delta = new Figures(forOrder ? 1 : 0, c.Amount, 0, vendorCost, 0);
                    break;
                case HoldReleased r:
                    Close(p.Wallet!, r.TransferId);
                    break;
                case Refunded r:
                    delta = new Figures(0, 0, r.Amount, 0, 0);
                    break;
                case VendorRefunded v:
                    delta = new Figures(0, 0, 0, 0, v.Amount);
                    break;
            }
            if (delta is { } d) deltas[key] = deltas.GetValueOrDefault(key) + d;
        }
        return new Changes(deltas.Where(d => d.Value != default).ToDictionary(), opened.Values.ToList(), closed.ToList());

        bool Close(string account, string transferId)
        {
            var k = (account, transferId);
            if (!open.Remove(k)) return false;
            if (!opened.Remove(k)) closed.Add(k);
            return true;
        }
    }

    private static async Task Write(Changes changes, ProjectionContext context)
    {
        if (changes.Deltas.Count > 0)
        {
            var rows = ColumnArrays.Of(changes.Deltas.ToList())
                .With("month", d => d.Key.Month).With("currency", d => d.Key.Currency)
                .With("orders_completed", d => d.Value.OrdersCompleted).With("sales", d => d.Value.Sales).With("refunds", d => d.Value.Refunds)
                .With("vendor_cost", d => d.Value.VendorCost).With("vendor_refunds", d => d.Value.VendorRefunds);
            // bigint addition in PostgreSQL is checked too: a sum past Int64 fails the batch (the projection stops).
            await context.Execute($$"""
                insert into {schema}.pnl_monthly as p ({{rows.Columns}}) select * from {{rows.Unnest()}}
                on conflict (month, currency) do update set
                    orders_completed = p.orders_completed + excluded.orders_completed,
                    sales = p.sales + excluded.sales,
                    refunds = p.refunds + excluded.refunds,
                    vendor_cost = p.vendor_cost + excluded.vendor_cost,
                    vendor_refunds = p.vendor_refunds + excluded.vendor_refunds
                """, rows.Parameters);
        }
        if (changes.Closed.Count > 0)
        {
            var closed = ColumnArrays.Of(changes.Closed).With("account", k => k.Account).With("transfer_id", k => k.TransferId);
            await context.Execute($"""
                delete from {"{schema}"}.pnl_monthly_order_holds h using {closed.Unnest("c")}
                where h.account = c.account and h.transfer_id = c.transfer_id
                """, closed.Parameters);
        }
        if (changes.Opened.Count > 0)
        {
            var opened = ColumnArrays.Of(changes.Opened)
                .With("account", h => h.Account).With("transfer_id", h => h.TransferId).With("order_id", h => h.OrderId);
            await context.Execute($"""
                insert into {"{schema}"}.pnl_monthly_order_holds ({opened.Columns}) select * from {opened.Unnest()}
                on conflict (account, transfer_id) do update set order_id = excluded.order_id
                """, opened.Parameters);
        }
    }
}
