using Steller.Application.EventStore;
using Steller.Application.Serialization;
using Steller.Domain.Orders;
using Steller.Domain.Vendors;
using Steller.Domain.Wallets;
using Steller.Projections.Engine;
using Steller.Projections.Orders;
using Steller.Projections.Wallets;

namespace Steller.Projections.Finance;

/// <summary>
/// read.pnl_monthly: per UTC month, partner, product type, vendor and currency, Steller's profit and loss from the ledger's own
/// postings (the events the ledger folds, read the way it reads them), so the figures of a (month, currency), summed over the
/// other dimensions, agree with read.ledger_entries:
/// <list type="bullet">
/// <item>sales — what partners paid: the amount of every capture (wallet.hold-captured.v1) in the month;</item>
/// <item>vendor_cost — the vendor legs of those captures (credits of platform:vendor:…);</item>
/// <item>refunds — what was paid back to partners (wallet.refunded.v1);</item>
/// <item>vendor_refunds — what vendors gave back when they reversed a purchase (vendor.refunded.v1);</item>
/// <item>margin = sales − vendor_cost; net = sales − refunds − vendor_cost + vendor_refunds, exactly how far platform:revenue:{ccy}
/// moved.</item>
/// </list>
/// Attribution per order line: the projection keeps each priced line of an order (product type, vendor = the line's source, unit
/// price and cost, units delivered) in pnl_monthly_order_lines. A capture of an order's hold is split by line (delivered × unit
/// price, delivered × unit cost) when that split adds up exactly to the capture and to each vendor leg (it does: the capture is
/// built from it); a refund is split over the order's lines in proportion to what each line has not yet had refunded, a vendor
/// reversal over the order's lines of that vendor in proportion to their cost not yet reversed (largest remainder, so the parts
/// add up exactly). What cannot be attributed to a line (a capture not of an order, an order whose lines are unknown) counts
/// with product_type '' (and vendor '' for sales and refunds; the vendor's own name for its cost and reversals). A posting
/// counts in the month it was recorded (its event's recorded time, as in read.ledger_entries). Sums are checked (a figure past
/// Int64 stops the projection).
/// </summary>
public sealed class PnlMonthlyProjection : IProjection
{
    public const string ProjectionName = "pnl_monthly";
    private const string VendorAccountPrefix = "platform:vendor:";
    private readonly EventTypeRegistry registry = ProjectionEvents.Registry;

    public string Name => ProjectionName;
    public int Version => 2;

    public IReadOnlySet<string>? EventTypes { get; } = EventTypeSet.Union(EventNames.Of<HoldPlaced>(), EventNames.Of<HoldCaptured>(),
        EventNames.Of<HoldReleased>(), EventNames.Of<Refunded>(), EventNames.Of<VendorRefunded>(), EventNames.Of<OrderPlaced>(),
        EventNames.Of<OrderFulfilled>(), EventNames.Of<OrderRetried>());

    public IReadOnlyList<string> Tables { get; } = ["pnl_monthly", "pnl_monthly_order_holds", "pnl_monthly_order_lines"];

    /// <summary>Financial: a figure it cannot fold stops it (and alerts) rather than being skipped.</summary>
    public OnPoisonEvent OnPoison => OnPoisonEvent.Stop;

    public string CreateTablesSql(string schema) => $"""
        create table {schema}.pnl_monthly (
            month             date    not null,   -- first day of the UTC month the postings were recorded in
            partner_id        text    not null,   -- '' when not attributable
            product_type      text    not null,   -- '' when not attributable to an order line
            vendor            text    not null,   -- the line's source (vendor kind or 'stocked'); '' when not attributable
            currency          text    not null,
            sales             bigint  not null,   -- Σ captures
            vendor_cost       bigint  not null,   -- Σ vendor legs of captures
            refunds           bigint  not null,   -- Σ refunds to partners
            vendor_refunds    bigint  not null,   -- Σ vendor reversals
            margin            bigint  generated always as (sales - vendor_cost) stored,
            net               bigint  generated always as (sales - refunds - vendor_cost + vendor_refunds) stored,
            primary key (month, partner_id, product_type, vendor, currency)
        );

        create table {schema}.pnl_monthly_order_holds (
            account      text  not null,          -- wallet:{'{'}partner{'}'}:{'{'}ccy{'}'}
            transfer_id  text  not null,
            order_id     text  not null,
            primary key (account, transfer_id)
        );

        create table {schema}.pnl_monthly_order_lines (
            order_id        text    not null,
            line_no         int     not null,
            partner_id      text    not null,
            currency        text    not null,
            product_type    text    not null,
            vendor          text    not null,
            unit_price      bigint  not null,
            unit_cost       bigint  not null,
            delivered       int     not null,
            sales           bigint  not null,
            vendor_cost     bigint  not null,
            refunded        bigint  not null,
            vendor_refunded bigint  not null,
            primary key (order_id, line_no)
        );
        """;

    public IReadOnlyList<ReadViewDoc> Docs { get; } =
    [
        new("pnl_monthly", "Profit and loss per UTC month, partner, product type, vendor and currency, from the ledger's postings split by order line (per month and currency, the sum over the other dimensions agrees with ledger_entries). Minor units of the currency; a posting counts in the month it was recorded.",
            ("month", "First day of the UTC month."),
            ("partner_id", "The partner whose wallet paid or was refunded ('' for a vendor reversal not of a known order)."),
            ("product_type", "The order line's product type ('' when the posting is not attributable to an order line)."),
            ("vendor", "Where the line was fulfilled: the vendor kind (e.g. giftcard, topup) or stocked ('' for sales and refunds not attributable to a line)."),
            ("currency", "Currency (ISO 4217)."),
            ("sales", "What partners paid for delivered units: Σ captures (debits of partner wallets), split by line as delivered × unit price."),
            ("vendor_cost", "What the delivered units cost at the vendor: Σ vendor legs of captures (credits of platform:vendor:{vendor}), split by line as delivered × unit cost."),
            ("refunds", "What was refunded to partners (debits of platform:revenue), split over the order's lines in proportion to what each has not yet had refunded."),
            ("vendor_refunds", "What vendors gave back for purchases they reversed (credits of platform:revenue), split over the order's lines of that vendor."),
            ("margin", "sales − vendor_cost: the gross margin of what was sold, before refunds."),
            ("net", "sales − refunds − vendor_cost + vendor_refunds: what Steller kept; summed per month and currency, the month's movement of platform:revenue.")),
        new("pnl_monthly_order_holds", "Open wallet holds placed for an order (working data for pnl_monthly: a capture of one is an order's settlement).",
            ("account", "The wallet: wallet:{partner}:{ccy}."),
            ("transfer_id", "The hold's id."),
            ("order_id", "The order it was placed for.")),
        new("pnl_monthly_order_lines", "Priced order lines (working data for pnl_monthly: how captures, refunds and vendor reversals of an order split by line).",
            ("order_id", "The order."),
            ("line_no", "The line (1-based)."),
            ("partner_id", "The partner who placed the order."),
            ("currency", "The order's currency."),
            ("product_type", "The line's product type, as priced."),
            ("vendor", "The line's source: the vendor kind or stocked."),
            ("unit_price", "Price of a unit to the partner (minor units)."),
            ("unit_cost", "Cost of a unit at the vendor (minor units)."),
            ("delivered", "Units delivered in the order's current round."),
            ("sales", "What the line's capture took (delivered × unit price)."),
            ("vendor_cost", "What the line's capture owed the vendor (delivered × unit cost)."),
            ("refunded", "Refunds attributed to the line so far."),
            ("vendor_refunded", "Vendor reversals attributed to the line so far.")),
    ];

    /// <summary>A wallet hold placed for an order.</summary>
    public readonly record struct OrderHold(string Account, string TransferId, string OrderId);

    /// <summary>One priced order line and what has been attributed to it.</summary>
    public sealed record LineFacts(string OrderId, int LineNo, string PartnerId, string Currency, string ProductType, string Vendor,
        long UnitPrice, long UnitCost, int Delivered, long Sales, long VendorCost, long Refunded, long VendorRefunded);

    public readonly record struct Key(DateOnly Month, string PartnerId, string ProductType, string Vendor, string Currency);

    /// <summary>The figures of one row, also used as a delta.</summary>
    public record struct Figures(long Sales, long VendorCost, long Refunds, long VendorRefunds)
    {
        public static Figures operator +(Figures a, Figures b) => checked(new(a.Sales + b.Sales, a.VendorCost + b.VendorCost,
            a.Refunds + b.Refunds, a.VendorRefunds + b.VendorRefunds));

        public long Margin => checked(Sales - VendorCost);
        public long Net => checked(Sales - Refunds - VendorCost + VendorRefunds);
    }

    /// <summary>An order event as the P&amp;L reads it.</summary>
    public sealed record OrderEventOf(string OrderId, IOrderEvent Event);

    /// <summary>
    /// One event of the batch the P&amp;L reads: a wallet event with its wallet and partner, a vendor reversal, or an order event
    /// (<see cref="OrderEventOf"/>).
    /// </summary>
    public sealed record PnlEvent(DateTimeOffset RecordedAt, string Currency, string? Wallet, object Event, string? PartnerId = null);

    /// <summary>What the batch writes: the rows' deltas, the order holds opened (still open) and those closed, the lines changed.</summary>
    public sealed record Changes(IReadOnlyDictionary<Key, Figures> Deltas, IReadOnlyList<OrderHold> Opened,
        IReadOnlyList<(string Account, string TransferId)> Closed, IReadOnlyList<LineFacts> Lines);

    public async Task Apply(IReadOnlyList<RecordedEvent> events, ProjectionContext context)
    {
        var pnlEvents = new List<PnlEvent>();
        foreach (var e in events)
        {
            if (VendorAccountStreams.Read(registry, e) is VendorRefunded vr)
                pnlEvents.Add(new PnlEvent(e.Metadata.RecordedAt, vr.Currency, null, vr));
            else if (WalletStreams.Read(registry, e) is { } we && Wallet.TryParseStreamName(e.StreamId, out var partner, out var currency))
                pnlEvents.Add(new PnlEvent(e.Metadata.RecordedAt, currency, Accounts.Wallet(partner, currency), we, partner));
            else if (OrderEventTypes.Read(registry, e) is var (orderId, oe) && oe is OrderPlaced or OrderFulfilled or OrderRetried)
                pnlEvents.Add(new PnlEvent(e.Metadata.RecordedAt, "", null, new OrderEventOf(orderId, oe)));
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
        var orderIds = loaded.Select(h => h.OrderId).Concat(pnlEvents.Select(p => p.Event switch
            {
                OrderEventOf o => o.OrderId,
                HoldPlaced h => h.OrderId,
                Refunded r => r.OrderId,
                VendorRefunded v => v.OrderId,
                _ => null,
            }).OfType<string>()).Distinct(StringComparer.Ordinal).ToArray();
        var lines = new List<LineFacts>();
        if (orderIds.Length > 0)
            lines = (await context.Query<LineFacts>($"""
                select order_id as OrderId, line_no as LineNo, partner_id as PartnerId, currency as Currency, product_type as ProductType,
                       vendor as Vendor, unit_price as UnitPrice, unit_cost as UnitCost, delivered as Delivered, sales as Sales,
                       vendor_cost as VendorCost, refunded as Refunded, vendor_refunded as VendorRefunded
                  from {context.Schema}.pnl_monthly_order_lines where order_id = any(@orderIds)
                """, new { orderIds })).ToList();
        await Write(Fold(loaded, pnlEvents, lines), context);
    }

    /// <summary>The month a posting recorded at <paramref name="at"/> counts in (UTC).</summary>
    public static DateOnly MonthOf(DateTimeOffset at) => new(at.UtcDateTime.Year, at.UtcDateTime.Month, 1);

    /// <summary>
    /// The pure fold: the open order holds and the order lines the batch touches (loaded from earlier batches) and the batch's
    /// events in log order, to how far each row moves, which order holds open or close and which lines change.
    /// </summary>
    public static Changes Fold(IEnumerable<OrderHold> loadedHolds, IEnumerable<PnlEvent> events, IEnumerable<LineFacts>? loadedLines = null)
    {
        var open = loadedHolds.ToDictionary(h => (h.Account, h.TransferId));
        var opened = new Dictionary<(string, string), OrderHold>();
        var closed = new HashSet<(string, string)>();
        var lines = (loadedLines ?? []).ToDictionary(l => (l.OrderId, l.LineNo));
        var changedLines = new HashSet<(string, int)>();
        var deltas = new Dictionary<Key, Figures>();
        foreach (var p in events)
        {
            var month = MonthOf(p.RecordedAt);
            switch (p.Event)
            {
                case OrderEventOf { Event: OrderPlaced { Currency: { } ccy } placed }:
                    foreach (var l in placed.Lines)
                        if (l.Pricing is { } pr)
                            Set(new LineFacts(placed.OrderId, l.LineNo, placed.PartnerId, ccy, pr.ProductType, pr.Source, pr.UnitPrice,
                                pr.UnitCost, 0, 0, 0, 0, 0));
                    break;
                case OrderEventOf { Event: OrderFulfilled f } o:
                    if (lines.TryGetValue((o.OrderId, f.LineNo), out var fl)) Set(fl with { Delivered = f.Delivered });
                    break;
                case OrderEventOf { Event: OrderRetried } o:
                    foreach (var rl in OrderLines(o.OrderId)) Set(rl with { Delivered = 0 });
                    break;
                case HoldPlaced { OrderId: { } orderId } h:
                    var hold = new OrderHold(p.Wallet!, h.TransferId, orderId);
                    open[(hold.Account, hold.TransferId)] = hold;
                    opened[(hold.Account, hold.TransferId)] = hold;
                    closed.Remove((hold.Account, hold.TransferId));
                    break;
                case HoldCaptured c:
                    var forOrder = Close(p.Wallet!, c.TransferId);
                    Capture(month, p, c, forOrder);
                    break;
                case HoldReleased r:
                    Close(p.Wallet!, r.TransferId);
                    break;
                case Refunded r:
                    var sold = OrderLines(r.OrderId).Where(l => l.Currency == p.Currency && l.PartnerId == p.PartnerId).ToList();
                    if (Allocate(r.Amount, sold.Select(l => checked(l.Sales - l.Refunded)).ToList()) is { } refundParts)
                        for (var i = 0; i < sold.Count; i++)
                        {
                            if (refundParts[i] == 0) continue;
                            Set(sold[i] with { Refunded = checked(sold[i].Refunded + refundParts[i]) });
                            Add(new Key(month, sold[i].PartnerId, sold[i].ProductType, sold[i].Vendor, p.Currency), new(0, 0, refundParts[i], 0));
                        }
                    else Add(new Key(month, p.PartnerId ?? "", "", "", p.Currency), new(0, 0, r.Amount, 0));
                    break;
                case VendorRefunded v:
                    var vendor = VendorOf(v.DebitAccount, v.Currency);
                    var bought = v.OrderId is null ? []
                        : OrderLines(v.OrderId).Where(l => l.Currency == v.Currency && l.Vendor == vendor).ToList();
                    if (Allocate(v.Amount, bought.Select(l => checked(l.VendorCost - l.VendorRefunded)).ToList()) is { } reversalParts)
                        for (var i = 0; i < bought.Count; i++)
                        {
                            if (reversalParts[i] == 0) continue;
                            Set(bought[i] with { VendorRefunded = checked(bought[i].VendorRefunded + reversalParts[i]) });
                            Add(new Key(month, bought[i].PartnerId, bought[i].ProductType, vendor, v.Currency), new(0, 0, 0, reversalParts[i]));
                        }
                    else
                    {
                        var partner = v.OrderId is null ? "" : OrderLines(v.OrderId).Select(l => l.PartnerId).FirstOrDefault() ?? "";
                        Add(new Key(month, partner, "", vendor, v.Currency), new(0, 0, 0, v.Amount));
                    }
                    break;
            }
        }
        return new Changes(deltas.Where(d => d.Value != default).ToDictionary(), opened.Values.ToList(), closed.ToList(),
            changedLines.Select(k => lines[k]).OrderBy(l => l.OrderId, StringComparer.Ordinal).ThenBy(l => l.LineNo).ToList());

        void Add(Key key, Figures delta) => deltas[key] = deltas.GetValueOrDefault(key) + delta;

        void Set(LineFacts line)
        {
            lines[(line.OrderId, line.LineNo)] = line;
            changedLines.Add((line.OrderId, line.LineNo));
        }

        List<LineFacts> OrderLines(string orderId) =>
            lines.Values.Where(l => l.OrderId == orderId).OrderBy(l => l.LineNo).ToList();

        // A capture splits by line when delivered × unit price adds up to it and delivered × unit cost to each vendor leg.
        void Capture(DateOnly month, PnlEvent p, HoldCaptured c, OrderHold? forOrder)
        {
            var vendorLegs = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var leg in c.Legs)
                if (leg.Account.StartsWith(VendorAccountPrefix, StringComparison.Ordinal))
                {
                    var vendor = VendorOf(leg.Account, p.Currency);
                    vendorLegs[vendor] = checked(vendorLegs.GetValueOrDefault(vendor) + leg.Amount);
                }
            var delivered = forOrder is { } h
                ? OrderLines(h.OrderId).Where(l => l.Delivered > 0 && l.Currency == p.Currency && l.PartnerId == p.PartnerId).ToList()
                : [];
            var parts = delivered.Select(l => (Line: l, Sales: checked(l.Delivered * l.UnitPrice), Cost: checked(l.Delivered * l.UnitCost))).ToList();
            var costByVendor = parts.Where(x => x.Cost != 0).GroupBy(x => x.Line.Vendor, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.Aggregate(0L, (s, x) => checked(s + x.Cost)), StringComparer.Ordinal);
            var exact = parts.Count > 0 && parts.Aggregate(0L, (s, x) => checked(s + x.Sales)) == c.Amount
                && costByVendor.Count == vendorLegs.Count(v => v.Value != 0)
                && costByVendor.All(v => vendorLegs.GetValueOrDefault(v.Key) == v.Value);
            if (exact)
            {
                foreach (var x in parts)
                {
                    Set(x.Line with { Sales = checked(x.Line.Sales + x.Sales), VendorCost = checked(x.Line.VendorCost + x.Cost) });
                    Add(new Key(month, x.Line.PartnerId, x.Line.ProductType, x.Line.Vendor, p.Currency), new(x.Sales, x.Cost, 0, 0));
                }
                return;
            }
            Add(new Key(month, p.PartnerId ?? "", "", "", p.Currency), new(c.Amount, 0, 0, 0));
            foreach (var (vendor, amount) in vendorLegs)
                Add(new Key(month, p.PartnerId ?? "", "", vendor, p.Currency), new(0, amount, 0, 0));
        }

        OrderHold? Close(string account, string transferId)
        {
            var k = (account, transferId);
            if (!open.Remove(k, out var h)) return null;
            if (!opened.Remove(k)) closed.Add(k);
            return h;
        }
    }

    /// <summary>"platform:vendor:giftcard:EUR" to "giftcard".</summary>
    private static string VendorOf(string account, string currency) =>
        account.StartsWith(VendorAccountPrefix, StringComparison.Ordinal) && account.EndsWith($":{currency}", StringComparison.Ordinal)
            && account.Length > VendorAccountPrefix.Length + currency.Length + 1
            ? account[VendorAccountPrefix.Length..^(currency.Length + 1)]
            : account;

    /// <summary>
    /// <paramref name="amount"/> in parts proportional to <paramref name="weights"/> (largest remainder, each part at most its
    /// weight), or null when it cannot be (no weight, or more than their sum).
    /// </summary>
    public static long[]? Allocate(long amount, IReadOnlyList<long> weights)
    {
        if (amount < 0 || weights.Any(w => w < 0)) return null;
        Int128 total = 0;
        foreach (var w in weights) total += w;
        if (total == 0 || amount > total) return null;
        var parts = new long[weights.Count];
        var remainders = new Int128[weights.Count];
        long given = 0;
        for (var i = 0; i < weights.Count; i++)
        {
            var share = (Int128)amount * weights[i];
            parts[i] = (long)(share / total);
            remainders[i] = share % total;
            given = checked(given + parts[i]);
        }
        foreach (var i in Enumerable.Range(0, weights.Count).OrderByDescending(i => remainders[i]).ThenBy(i => i))
        {
            if (given == amount) break;
            if (parts[i] < weights[i]) { parts[i]++; given++; }
        }
        return given == amount ? parts : null;
    }

    private static async Task Write(Changes changes, ProjectionContext context)
    {
        if (changes.Deltas.Count > 0)
        {
            var rows = ColumnArrays.Of(changes.Deltas.ToList())
                .With("month", d => d.Key.Month).With("partner_id", d => d.Key.PartnerId).With("product_type", d => d.Key.ProductType)
                .With("vendor", d => d.Key.Vendor).With("currency", d => d.Key.Currency)
                .With("sales", d => d.Value.Sales).With("vendor_cost", d => d.Value.VendorCost).With("refunds", d => d.Value.Refunds)
                .With("vendor_refunds", d => d.Value.VendorRefunds);
            // bigint addition in PostgreSQL is checked too: a sum past Int64 fails the batch (the projection stops).
            await context.Execute($$"""
                insert into {schema}.pnl_monthly as p ({{rows.Columns}}) select * from {{rows.Unnest()}}
                on conflict (month, partner_id, product_type, vendor, currency) do update set
                    sales = p.sales + excluded.sales,
                    vendor_cost = p.vendor_cost + excluded.vendor_cost,
                    refunds = p.refunds + excluded.refunds,
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
        if (changes.Lines.Count > 0)
        {
            var lines = ColumnArrays.Of(changes.Lines)
                .With("order_id", l => l.OrderId).With("line_no", l => l.LineNo).With("partner_id", l => l.PartnerId)
                .With("currency", l => l.Currency).With("product_type", l => l.ProductType).With("vendor", l => l.Vendor)
                .With("unit_price", l => l.UnitPrice).With("unit_cost", l => l.UnitCost).With("delivered", l => l.Delivered)
                .With("sales", l => l.Sales).With("vendor_cost", l => l.VendorCost).With("refunded", l => l.Refunded)
                .With("vendor_refunded", l => l.VendorRefunded);
            await context.Execute($"""
                insert into {"{schema}"}.pnl_monthly_order_lines ({lines.Columns}) select * from {lines.Unnest()}
                on conflict (order_id, line_no) do update set
                    partner_id = excluded.partner_id, currency = excluded.currency, product_type = excluded.product_type,
                    vendor = excluded.vendor, unit_price = excluded.unit_price, unit_cost = excluded.unit_cost,
                    delivered = excluded.delivered, sales = excluded.sales, vendor_cost = excluded.vendor_cost,
                    refunded = excluded.refunded, vendor_refunded = excluded.vendor_refunded
                """, lines.Parameters);
        }
    }
}
