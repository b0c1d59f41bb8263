using System.Text.Json;
using Dapper;
using Steller.Application.EventStore;
using Steller.Application.Serialization;
using Steller.Domain.Orders;
using Steller.Projections.Engine;

namespace Steller.Projections.Orders;

/// <summary>
/// read.partner_daily_stats: per partner, per UTC day the order was placed (from order.placed.v1, never the day a later
/// event arrived), per sku and currency: orders placed, completed (incl. partially, and later refunded), failed,
/// rejected, cancelled; units delivered and their face value; captured, refunded, partner spend (captured − refunded),
/// revenue, vendor cost, margin (= revenue) and success rate (completed / (completed + failed), null when neither).
/// Currency is '' for an order rejected before it could be priced.
/// <para>
/// How it stays right under replay and late events: the projection keeps, in its own table
/// partner_daily_stats_orders, the few facts of each order it needs (partner, day, currency, status, per line: sku,
/// face value, unit price and cost, units delivered; captured, refunded). For every order a batch touches, the row
/// counts are moved by (what the order contributes after the batch) − (what it contributed before). So an event
/// arriving days later updates the row of the day the order was placed, and a rebuild, folding the same events in the
/// same order, gives the same rows. Money of an order counts only once it completed; a refund is spread over the
/// order's skus in proportion to what each captured (the remainder to the sku that captured most).
/// </para>
/// </summary>
public sealed class PartnerDailyStatsProjection : IProjection
{
    public const string ProjectionName = "partner_daily_stats";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new PgText.StringConverter() } };
    private readonly EventTypeRegistry registry = ProjectionEvents.Registry;

    public string Name => ProjectionName;
    public int Version => 1;
    public IReadOnlySet<string>? EventTypes => OrderEventTypes.All;
    public IReadOnlyList<string> Tables { get; } = ["partner_daily_stats", "partner_daily_stats_orders"];

    public string CreateTablesSql(string schema) => $"""
        create table {schema}.partner_daily_stats (
            partner_id        text    not null,
            day               date    not null,   -- UTC day of the order's placed_at
            sku               text    not null,
            currency          text    not null,   -- '' when the order could not be priced
            orders_placed     bigint  not null,   -- orders with at least one line of this sku
            orders_completed  bigint  not null,   -- Completed, PartiallyCompleted (and those later refunded)
            orders_failed     bigint  not null,
            orders_rejected   bigint  not null,
            orders_cancelled  bigint  not null,
            units_delivered   bigint  not null,
            face_value        bigint  not null,   -- Σ delivered units × face value
            captured          bigint  not null,
            refunded          bigint  not null,
            partner_spend     bigint  generated always as (captured - refunded) stored,
            revenue           bigint  not null,
            vendor_cost       bigint  not null,   -- vendor payables
            margin            bigint  generated always as (revenue) stored,
            success_rate      numeric generated always as (
                                  case when orders_completed + orders_failed = 0 then null
                                       else round(orders_completed::numeric / (orders_completed + orders_failed), 4) end) stored,
            primary key (partner_id, day, sku, currency)
        );
        create index on {schema}.partner_daily_stats (day, partner_id);

        create table {schema}.partner_daily_stats_orders (
            order_id   text  primary key,
            partner_id text  not null,
            day        date  not null,
            facts      jsonb not null    -- what the stats need of the order; never card data
        );
        """;

    public IReadOnlyList<ReadViewDoc> Docs { get; } =
    [
        new("partner_daily_stats", "Per partner, UTC day the order was placed, sku and currency: order counts and money of completed orders, minor units. A later event (completion, refund) updates the row of the day the order was placed.",
            ("partner_id", "The partner."),
            ("day", "UTC day the order was placed."),
            ("sku", "Steller's product id."),
            ("currency", "Currency of the amounts (ISO 4217); empty for an order rejected before it could be priced."),
            ("orders_placed", "Orders with at least one line of this sku."),
            ("orders_completed", "Of those, completed or partially completed (including those refunded later)."),
            ("orders_failed", "Of those, failed."),
            ("orders_rejected", "Of those, rejected."),
            ("orders_cancelled", "Of those, cancelled."),
            ("units_delivered", "Units delivered."),
            ("face_value", "Σ delivered units × face value."),
            ("captured", "What the partner paid: Σ delivered units × unit price."),
            ("refunded", "Refunded to the partner (an order's refund spread over its skus in proportion to what each captured)."),
            ("partner_spend", "captured − refunded."),
            ("revenue", "Steller's margin: captured − vendor_cost (negative on a sale below cost); refunds not deducted."),
            ("vendor_cost", "What the delivered units cost Steller: Σ delivered units × unit cost."),
            ("margin", "Same as revenue."),
            ("success_rate", "orders_completed / (orders_completed + orders_failed), 4 decimals; null when neither.")),
        new("partner_daily_stats_orders", "The few facts of each order the daily stats need (working data for partner_daily_stats). Never card data.",
            ("order_id", "The order."),
            ("partner_id", "The partner."),
            ("day", "UTC day the order was placed."),
            ("facts", "JSON: currency, status, lines (sku, face value, unit price and cost, units delivered), captured, refunded.")),
    ];

    /// <summary>What the stats need of one order.</summary>
    public sealed class Facts
    {
        public string PartnerId { get; set; } = "";
        public DateOnly Day { get; set; }
        public string Currency { get; set; } = "";
        public OrderStatus Status { get; set; }
        public List<FactLine> Lines { get; set; } = [];
        public long Captured { get; set; }
        public long Refunded { get; set; }
        public Facts Copy() => new()
        {
            PartnerId = PartnerId, Day = Day, Currency = Currency, Status = Status, Captured = Captured, Refunded = Refunded,
            Lines = Lines.Select(l => l.Copy()).ToList(),
        };
    }

    public sealed class FactLine
    {
        public int LineNo { get; set; }
        public string Sku { get; set; } = "";
        public long FaceValue { get; set; }
        public long UnitPrice { get; set; }
        public long UnitCost { get; set; }
        public int Delivered { get; set; }
        public FactLine Copy() => (FactLine)MemberwiseClone();
    }

    /// <summary>The counters of one stats row, also used as a delta.</summary>
    public record struct Counters(long Placed, long Completed, long Failed, long Rejected, long Cancelled, long Units, long FaceValue,
        long Captured, long Refunded, long Revenue, long VendorCost)
    {
        public static Counters operator +(Counters a, Counters b)
            => new(a.Placed + b.Placed, a.Completed + b.Completed, a.Failed + b.Failed,
            a.Rejected + b.Rejected, a.Cancelled + b.Cancelled, a.Units + b.Units, a.FaceValue + b.FaceValue, a.Captured + b.Captured,
            a.Refunded + b.Refunded, a.Revenue + b.Revenue, a.VendorCost + b.VendorCost);

        public static Counters operator -(Counters a, Counters b)
            => new(a.Placed - b.Placed, a.Completed - b.Completed, a.Failed - b.Failed,
            a.Rejected - b.Rejected, a.Cancelled - b.Cancelled, a.Units - b.Units, a.FaceValue - b.FaceValue, a.Captured - b.Captured,
            a.Refunded - b.Refunded, a.Revenue - b.Revenue, a.VendorCost - b.VendorCost);
    }

    public readonly record struct Key(string PartnerId, DateOnly Day, string Sku, string Currency);

    /// <summary>What one order adds to the stats rows, per sku.</summary>
    private static Dictionary<Key, Counters> Contribution(Facts? f)
    {
        var result = new Dictionary<Key, Counters>();
        if (f is null) return result;
        var sold = OrderEventTypes.IsCompletedSale(f.Status);
        var perSku = f.Lines.GroupBy(l => l.Sku, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal).ToList();
        var captured = perSku.ToDictionary(g => g.Key, g => sold ? g.Sum(l => l.Delivered * l.UnitPrice) : 0, StringComparer.Ordinal);
        var refunds = SpreadRefund(sold ? f.Refunded : 0, captured);
        foreach (var g in perSku)
        {
            var units = sold ? g.Sum(l => (long)l.Delivered) : 0;
            var cost = sold ? g.Sum(l => l.Delivered * l.UnitCost) : 0;
            result[new Key(f.PartnerId, f.Day, g.Key, f.Currency)] = new Counters(
                Placed: 1,
                Completed: sold ? 1 : 0,
                Failed: f.Status == OrderStatus.Failed ? 1 : 0,
                Rejected: f.Status == OrderStatus.Rejected ? 1 : 0,
                Cancelled: f.Status == OrderStatus.Cancelled ? 1 : 0,
                Units: units,
                FaceValue: sold ? g.Sum(l => l.Delivered * l.FaceValue) : 0,
                Captured: captured[g.Key],
                Refunded: refunds[g.Key],
                Revenue: captured[g.Key] - cost,
                VendorCost: cost);
        }
        return result;
    }

    /// <summary>
    /// Spreads <paramref name="refunded"/> over skus in proportion to what each captured; the remainder goes to the largest.
    /// </summary>
    private static Dictionary<string, long> SpreadRefund(long refunded, Dictionary<string, long> captured)
    {
        var total = captured.Values.Sum();
        var shares = captured.ToDictionary(c => c.Key, c => total == 0 ? 0 : (long)((Int128)refunded * c.Value / total),
            StringComparer.Ordinal);
        var rest = refunded - shares.Values.Sum();
        if (rest != 0 && captured.Count > 0)
        {
            var largest = captured.OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal).First().Key;
            shares[largest] += rest;
        }
        return shares;
    }

    private static void Evolve(Facts f, IOrderEvent e)
    {
        switch (e)
        {
            case OrderRejected: f.Status = OrderStatus.Rejected; break;
            case OrderFundsHeld: f.Status = OrderStatus.FundsHeld; break;
            case OrderSubmittedToVendor: f.Status = OrderStatus.Submitted; break;
            case OrderFulfilled x:
                if (f.Lines.Find(l => l.LineNo == x.LineNo) is { } line) line.Delivered = x.Delivered;
                break;
            case OrderCompleted c:
                f.Status = c.Status == nameof(OrderStatus.Completed) ? OrderStatus.Completed : OrderStatus.PartiallyCompleted;
                f.Captured = c.Captured;
                break;
            case OrderFailed: f.Status = OrderStatus.Failed; break;
            case OrderCancelled: f.Status = OrderStatus.Cancelled; break;
            case OrderRetried:
                // A new round: no longer failed, nothing delivered yet (the counts follow the order as it is now).
                f.Status = OrderStatus.Placed;
                foreach (var each in f.Lines) each.Delivered = 0;
                break;
            case OrderRefunded r:
                f.Refunded += r.Amount;
                f.Status = f.Refunded >= f.Captured ? OrderStatus.Refunded : OrderStatus.PartiallyRefunded;
                break;
        }
    }

    private sealed record StoredFacts(string OrderId, string Facts);

    /// <summary>
    /// What the batch writes: the moves of the stats rows (after − before, none zero), and the facts of the touched orders.
    /// </summary>
    public sealed record Changes(IReadOnlyList<KeyValuePair<Key, Counters>> Moved, IReadOnlyList<(string OrderId, Facts Facts)> Kept);

    public async Task Apply(IReadOnlyList<RecordedEvent> events, ProjectionContext context)
    {
        var orderEvents = events.Select(e => OrderEventTypes.Read(registry, e)).OfType<(string OrderId, IOrderEvent Event)>().ToList();
        if (orderEvents.Count == 0) return;
        var changes = Fold(await Load(orderEvents, context), orderEvents);
        if (changes.Kept.Count > 0) await Write(changes, context);
    }

    /// <summary>The facts of the touched orders placed in an earlier batch.</summary>
    private static async Task<Dictionary<string, Facts>> Load(IReadOnlyList<(string OrderId, IOrderEvent Event)> orderEvents,
        ProjectionContext context)
    {
        var placedHere = orderEvents.Where(x => x.Event is OrderPlaced).Select(x => x.OrderId).ToHashSet(StringComparer.Ordinal);
        var toLoad = orderEvents.Select(x => x.OrderId).Where(id => !placedHere.Contains(id)).Distinct(StringComparer.Ordinal).ToArray();
        var facts = new Dictionary<string, Facts>(StringComparer.Ordinal);
        if (toLoad.Length > 0)
            foreach (var row in await context.Query<StoredFacts>(
                         $"select order_id as OrderId, facts::text as Facts from {context.Schema}.partner_daily_stats_orders where "
                             + $"order_id = any(@toLoad)",
                         new { toLoad }))
                facts[row.OrderId] = JsonSerializer.Deserialize<Facts>(row.Facts, Json)!;
        return facts;
    }

    /// <summary>
    /// The pure fold: the loaded facts (left unchanged) and the batch's order events in log order, to how far each stats
    /// row moves (what the touched orders contribute after the batch − before it) and the touched orders' facts.
    /// </summary>
    public static Changes Fold(IReadOnlyDictionary<string, Facts> loaded, IEnumerable<(string OrderId, IOrderEvent Event)> orderEvents)
    {
        var facts = loaded.ToDictionary(f => f.Key, f => f.Value.Copy(), StringComparer.Ordinal);
        var before = loaded.ToDictionary(f => f.Key, f => Contribution(f.Value), StringComparer.Ordinal);
        var touched = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (orderId, e) in orderEvents)
        {
            if (e is OrderPlaced p)
            {
                if (facts.ContainsKey(orderId)) continue;
                facts[orderId] = new Facts
                {
                    PartnerId = p.PartnerId, Day = DateOnly.FromDateTime(p.PlacedAt.UtcDateTime), Currency = p.Currency ?? "",
                    Status = OrderStatus.Placed, Lines = p.Lines.Select(l => new FactLine
                    {
                        LineNo = l.LineNo, Sku = l.Sku, FaceValue = l.FaceValue, UnitPrice = l.Pricing?.UnitPrice ?? 0,
                    UnitCost = l.Pricing?.UnitCost ?? 0, }).ToList(),
                };
            }
            else if (facts.TryGetValue(orderId, out var f)) Evolve(f, e);
            else continue; // an order stream always begins with order.placed.v1
            touched.Add(orderId);
        }

        var deltas = new Dictionary<Key, Counters>();
        foreach (var id in touched)
        {
            foreach (var (key, c) in Contribution(facts[id])) deltas[key] = deltas.GetValueOrDefault(key) + c;
            if (before.TryGetValue(id, out var old))
                foreach (var (key, c) in old) deltas[key] = deltas.GetValueOrDefault(key) - c;
        }
        return new Changes(deltas.Where(d => d.Value != default).ToList(), touched.Select(id => (id, facts[id])).ToList());
    }

    /// <summary>Moves the rows, and keeps the facts.</summary>
    private static async Task Write(Changes changes, ProjectionContext context)
    {
        if (changes.Moved.Count > 0)
        {
            var moved = ColumnArrays.Of(changes.Moved)
                .With("partner_id", d => d.Key.PartnerId).With("day", d => d.Key.Day).With("sku", d => d.Key.Sku)
                .With("currency", d => d.Key.Currency)
                .With("orders_placed", d => d.Value.Placed).With("orders_completed", d => d.Value.Completed)
                .With("orders_failed", d => d.Value.Failed)
                .With("orders_rejected", d => d.Value.Rejected).With("orders_cancelled", d => d.Value.Cancelled)
                .With("units_delivered", d => d.Value.Units).With("face_value", d => d.Value.FaceValue)
                .With("captured", d => d.Value.Captured)
                .With("refunded", d => d.Value.Refunded).With("revenue", d => d.Value.Revenue).With("vendor_cost", d => d.Value.VendorCost);
            await context.Execute($$"""
                insert into {schema}.partner_daily_stats as s ({{moved.Columns}}) select * from {{moved.Unnest()}}
                on conflict (partner_id, day, sku, currency) do update set
                    orders_placed = s.orders_placed + excluded.orders_placed,
                    orders_completed = s.orders_completed + excluded.orders_completed,
                    orders_failed = s.orders_failed + excluded.orders_failed,
                    orders_rejected = s.orders_rejected + excluded.orders_rejected,
                    orders_cancelled = s.orders_cancelled + excluded.orders_cancelled,
                    units_delivered = s.units_delivered + excluded.units_delivered,
                    face_value = s.face_value + excluded.face_value,
                    captured = s.captured + excluded.captured,
                    refunded = s.refunded + excluded.refunded,
                    revenue = s.revenue + excluded.revenue,
                    vendor_cost = s.vendor_cost + excluded.vendor_cost
                """, moved.Parameters);
        }

        var kept = ColumnArrays.Of(changes.Kept)
            .With("order_id", k => k.OrderId).With("partner_id", k => k.Facts.PartnerId).With("day", k => k.Facts.Day)
            .WithJson("facts", k => k.Facts, Json);
        await context.Execute($$"""
            insert into {schema}.partner_daily_stats_orders as o ({{kept.Columns}})
            select order_id, partner_id, day, facts::jsonb from {{kept.Unnest()}}
            on conflict (order_id) do update set facts = excluded.facts
            """, kept.Parameters);
    }
}
