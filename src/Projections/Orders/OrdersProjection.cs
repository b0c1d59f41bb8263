using Dapper;
using Steller.Application.EventStore;
using Steller.Application.Serialization;
using Steller.Domain.Orders;
using Steller.Projections.Engine;

namespace Steller.Projections.Orders;

/// <summary>
/// The order read models, from order events:
/// <list type="bullet">
/// <item>read.orders — one row per order: partner, client reference, status, money (total, held, captured, released,
/// revenue, vendor cost, refunded), the rejection code and the reason of a rejection, failure or cancellation, and the
/// last revision and log position applied.</item>
/// <item>read.order_lines — one row per line: what was asked and priced, where it is fulfilled from, the vendor request
/// id, transient attempts, units and cards delivered, the failure reason.</item>
/// </list>
/// Card codes and PINs are never stored, not even as ciphertext: a line keeps only how many cards it delivered.
/// Per batch: one read of the touched orders and lines not placed in the batch, a fold in memory, one upsert per table.
/// </summary>
public sealed class OrdersProjection : IProjection
{
    public const string ProjectionName = "orders";
    private readonly EventTypeRegistry registry = ProjectionEvents.Registry;

    public string Name => ProjectionName;
    public int Version => 1;
    public IReadOnlySet<string>? EventTypes => OrderEventTypes.All;
    public IReadOnlyList<string> Tables { get; } = ["orders", "order_lines"];

    public string CreateTablesSql(string schema) => $"""
        create table {schema}.orders (
            order_id              text        primary key,
            partner_id            text        not null,
            client_reference      text        not null,
            status                text        not null,  -- Placed, Rejected, FundsHeld, Submitted, Completed, PartiallyCompleted, Failed, Cancelled, Refunded, PartiallyRefunded
            currency              text,                  -- null only on an order rejected before it could be priced
            total                 bigint      not null,  -- the price: Σ quantity × unit price
            held                  bigint      not null,  -- the wallet hold
            captured              bigint      not null,
            released              bigint      not null,
            revenue               bigint      not null,  -- captured − vendor cost (negative on a sale below cost)
            vendor_cost           bigint      not null,  -- Σ vendor payables
            refunded              bigint      not null,
            rejection_code        text,
            reason                text,                  -- rejection message, failure reason or cancel reason
            lines                 int         not null,
            units                 int         not null,  -- Σ quantity
            delivered             int         not null,  -- Σ units delivered
            placed_at             timestamptz not null,
            updated_at            timestamptz not null,  -- recorded time of the last event
            last_revision         bigint      not null,
            last_commit_position  bigint      not null,
            last_prepare_position bigint      not null
        );
        create index on {schema}.orders (partner_id, placed_at desc, order_id desc);
        create index on {schema}.orders (updated_at, order_id) where status in ('FundsHeld', 'Submitted');
        create index on {schema}.orders (placed_at, order_id) where status in ('Placed', 'FundsHeld');

        create table {schema}.order_lines (
            order_id              text        not null,
            line_no               int         not null,
            sku                   text        not null,
            quantity              int         not null,
            face_value            bigint      not null,
            unit_price            bigint,                -- null when the line could not be priced (rejected order)
            unit_cost             bigint,
            product_type          text,
            source                text,                  -- a vendor kind or "stocked"
            vendor_product_id     text,
            negative_margin       boolean     not null,
            request_id            text,                  -- what the vendor sees, set when fulfilment began
            attempts              int         not null,  -- transient vendor failures
            last_attempt_error    text,
            delivered             int,                   -- null until the line is final
            cards                 int         not null,  -- how many cards were delivered (never their codes)
            failure_reason        text,
            primary key (order_id, line_no)
        );
        """;

    public IReadOnlyList<ReadViewDoc> Docs { get; } =
    [
        new("orders", "One row per order, as it stands now. Money in minor units of the order's currency.",
            ("order_id", "The order's id."),
            ("partner_id", "The partner that placed it."),
            ("client_reference", "The partner's own reference (one order per reference)."),
            ("status", "Placed, Rejected, FundsHeld, Submitted, Completed, PartiallyCompleted, Failed, Cancelled, Refunded or PartiallyRefunded."),
            ("currency", "Currency of the order (ISO 4217); null only when it was rejected before it could be priced."),
            ("total", "The price: Σ quantity × unit price."),
            ("held", "Amount held on the partner's wallet for it."),
            ("captured", "Amount taken from the wallet when it settled: delivered units × unit price."),
            ("released", "Amount of the hold given back (undelivered units, failure, cancellation)."),
            ("revenue", "Steller's margin on it: captured − vendor cost (negative on a sale below cost)."),
            ("vendor_cost", "What the delivered units cost Steller at its vendors (or of stocked vouchers)."),
            ("refunded", "Amount refunded to the partner."),
            ("rejection_code", "Problem code of a rejection; null otherwise."),
            ("reason", "The rejection message, failure reason or cancellation reason; null otherwise."),
            ("lines", "Number of order lines."),
            ("units", "Units ordered: Σ quantity."),
            ("delivered", "Units delivered so far."),
            ("placed_at", "When the order was placed (UTC)."),
            ("updated_at", "Recorded time (UTC) of its last event."),
            ("last_revision", "Revision of the order's event stream last applied."),
            ("last_commit_position", "Global log position (commit part) of its last event applied."),
            ("last_prepare_position", "Global log position (prepare part) of its last event applied.")),
        new("order_lines", "One row per order line: what was asked and priced, where it is fulfilled from, what was delivered. Never card codes or PINs.",
            ("order_id", "The order (read.orders)."),
            ("line_no", "The line's number within the order."),
            ("sku", "Steller's product id."),
            ("quantity", "Units ordered."),
            ("face_value", "Face value of one unit, minor units."),
            ("unit_price", "What the partner pays for one unit, minor units; null when the line could not be priced (rejected order)."),
            ("unit_cost", "What one unit costs Steller, minor units; null when not priced."),
            ("product_type", "gift_card, top_up or voucher; null when not priced."),
            ("source", "Where it is fulfilled from: a vendor (giftcard, topup) or stocked; null when not priced."),
            ("vendor_product_id", "The product's id at the vendor; null for stocked products."),
            ("negative_margin", "True when the unit price is below the unit cost."),
            ("request_id", "The id the vendor sees for this line, set when fulfilment began; null before."),
            ("attempts", "Transient vendor failures met so far."),
            ("last_attempt_error", "The last transient failure, in words; null if none."),
            ("delivered", "Units delivered; null until the line is final."),
            ("cards", "How many cards were delivered (never their codes)."),
            ("failure_reason", "Why the line failed or delivered less; null otherwise.")),
    ];

    /// <summary>One row of read.orders.</summary>
    public sealed class OrderRow
    {
        public string OrderId = "", PartnerId = "", ClientReference = "", Status = "";
        public string? Currency, RejectionCode, Reason;
        public long Total, Held, Captured, Released, Revenue, VendorCost, Refunded, LastRevision, LastCommitPosition, LastPreparePosition;
        public int Lines, Units, Delivered;
        public DateTime PlacedAt, UpdatedAt;
        public OrderRow Copy() => (OrderRow)MemberwiseClone();
    }

    /// <summary>One row of read.order_lines.</summary>
    public sealed class LineRow
    {
        public string OrderId = "", Sku = "";
        public int LineNo, Quantity, Attempts, Cards;
        public long FaceValue;
        public long? UnitPrice, UnitCost;
        public string? ProductType, Source, VendorProductId, RequestId, LastAttemptError, FailureReason;
        public bool NegativeMargin;
        public int? Delivered;
        public LineRow Copy() => (LineRow)MemberwiseClone();
    }

    /// <summary>An order event of the batch with its order id.</summary>
    public sealed record OrderEvent(RecordedEvent Recorded, string OrderId, IOrderEvent Event);

    /// <summary>What the batch writes: the touched orders and lines as they stand after it.</summary>
    public sealed record Changes(IReadOnlyList<OrderRow> Orders, IReadOnlyList<LineRow> Lines);

    public async Task Apply(IReadOnlyList<RecordedEvent> events, ProjectionContext context)
    {
        var orderEvents = events.Select(e => (Recorded: e, Read: OrderEventTypes.Read(registry, e)))
            .Where(x => x.Read is not null).Select(x => new OrderEvent(x.Recorded, x.Read!.Value.OrderId, x.Read.Value.Event)).ToList();
        if (orderEvents.Count == 0) return;
        var (orders, lines) = await Load(orderEvents, context);
        await Write(Fold(orders, lines, orderEvents), context);
    }

    /// <summary>The orders this batch touches that were placed in an earlier batch, and their lines.</summary>
    private static async Task<(Dictionary<string, OrderRow>,
        Dictionary<(string, int), LineRow>)> Load(IReadOnlyList<OrderEvent> orderEvents,
        ProjectionContext context)
    {
        var placedHere = orderEvents.Where(x => x.Event is OrderPlaced).Select(x => x.OrderId).ToHashSet(StringComparer.Ordinal);
        var toLoad = orderEvents.Select(x => x.OrderId).Where(id => !placedHere.Contains(id)).Distinct(StringComparer.Ordinal).ToArray();
        var orders = new Dictionary<string, OrderRow>(StringComparer.Ordinal);
        var lines = new Dictionary<(string, int), LineRow>();
        if (toLoad.Length == 0) return (orders, lines);
        foreach (var o in await context.Query<OrderRow>($"""
                select order_id as OrderId, partner_id as PartnerId, client_reference as ClientReference, status as Status, currency as Currency,
                       rejection_code as RejectionCode, reason as Reason, total as Total, held as Held, captured as Captured, released as Released,
                       revenue as Revenue, vendor_cost as VendorCost, refunded as Refunded, last_revision as LastRevision,
                       last_commit_position as LastCommitPosition, last_prepare_position as LastPreparePosition, lines as Lines, units as Units,
                       delivered as Delivered, placed_at as PlacedAt, updated_at as UpdatedAt
                  from {context.Schema}.orders where order_id = any(@toLoad)
                """, new { toLoad }))
            orders[o.OrderId] = o;
        foreach (var l in await context.Query<LineRow>($"""
                select order_id as OrderId, line_no as LineNo, sku as Sku, quantity as Quantity, face_value as FaceValue, unit_price as UnitPrice,
                       unit_cost as UnitCost, product_type as ProductType, source as Source, vendor_product_id as VendorProductId,
                       negative_margin as NegativeMargin, request_id as RequestId, attempts as Attempts, last_attempt_error as LastAttemptError,
                       delivered as Delivered, cards as Cards, failure_reason as FailureReason
                  from {context.Schema}.order_lines where order_id = any(@toLoad)
                """, new { toLoad }))
            lines[(l.OrderId, l.LineNo)] = l;
        return (orders, lines);
    }

    /// <summary>
    /// The pure fold: the loaded orders and lines (left unchanged) and the batch's order events in log order, to the
    /// orders and lines the batch touched as they stand after it.
    /// </summary>
    public static Changes Fold(IReadOnlyDictionary<string, OrderRow> loadedOrders, IReadOnlyDictionary<(string, int), LineRow> loadedLines,
        IEnumerable<OrderEvent> orderEvents)
    {
        var orders = loadedOrders.ToDictionary(o => o.Key, o => o.Value.Copy(), StringComparer.Ordinal);
        var lines = loadedLines.ToDictionary(l => l.Key, l => l.Value.Copy());
        var touched = new HashSet<string>(StringComparer.Ordinal);
        var touchedLines = new HashSet<(string, int)>();
        foreach (var (e, orderId, ev) in orderEvents)
        {
            if (ev is OrderPlaced p)
            {
                if (orders.ContainsKey(orderId)) continue; // placed once per stream; a repeat changes nothing
                orders[orderId] = Placed(orderId, p);
                foreach (var l in p.Lines)
                {
                    lines[(orderId, l.LineNo)] = PlacedLine(orderId, l);
                    touchedLines.Add((orderId, l.LineNo));
                }
            }
            if (!orders.TryGetValue(orderId, out var o)) continue; // an order stream always begins with order.placed.v1
            LineRow? Line(int lineNo)
            {
                if (!lines.TryGetValue((orderId, lineNo), out var line)) return null;
                touchedLines.Add((orderId, lineNo));
                return line;
            }
            Evolve(o, ev, Line, () => lines.Keys.Where(k => k.Item1 == orderId).Select(k => k.Item2).ToList());
            o.UpdatedAt = e.Metadata.RecordedAt.UtcDateTime;
            o.LastRevision = e.Revision.Value;
            (o.LastCommitPosition, o.LastPreparePosition) = ((long)e.Position.Commit, (long)e.Position.Prepare);
            touched.Add(orderId);
        }
        return new Changes(touched.Select(id => orders[id]).ToList(), touchedLines.Select(k => lines[k]).ToList());
    }

    private static OrderRow Placed(string orderId, OrderPlaced p) => new()
    {
        OrderId = orderId, PartnerId = p.PartnerId, ClientReference = p.ClientReference, Status = nameof(OrderStatus.Placed),
        Currency = p.Currency, Total = p.Total, Lines = p.Lines.Count, Units = p.Lines.Sum(l => l.Quantity),
    PlacedAt = p.PlacedAt.UtcDateTime, };

    private static LineRow PlacedLine(string orderId, OrderLine l) => new()
    {
        OrderId = orderId, LineNo = l.LineNo, Sku = l.Sku, Quantity = l.Quantity, FaceValue = l.FaceValue,
        UnitPrice = l.Pricing?.UnitPrice, UnitCost = l.Pricing?.UnitCost, ProductType = l.Pricing?.ProductType,
        Source = l.Pricing?.Source, VendorProductId = l.Pricing?.VendorProductId, NegativeMargin = l.Pricing?.NegativeMargin ?? false,
    };

    /// <summary>
    /// One event on its order row; <paramref name="line"/> gives (and marks as changed) a line of the order,
    /// <paramref name="lineNos"/> the numbers of all its lines.
    /// </summary>
    private static void Evolve(OrderRow o, IOrderEvent ev, Func<int, LineRow?> line, Func<IReadOnlyList<int>> lineNos)
    {
        switch (ev)
        {
            case OrderRejected r: o.Status = nameof(OrderStatus.Rejected); o.RejectionCode = r.Code; o.Reason = r.Message; break;
            case OrderFundsHeld f: o.Status = nameof(OrderStatus.FundsHeld); o.Held = f.Amount; break;
            case OrderSubmittedToVendor v:
                o.Status = nameof(OrderStatus.Submitted);
                if (line(v.LineNo) is { } submitted) { submitted.RequestId = v.RequestId; submitted.Source ??= v.Source; }
                break;
            case VendorAttemptFailed a:
                if (line(a.LineNo) is { } attempted) { attempted.Attempts = a.Attempt; attempted.LastAttemptError = a.Reason; }
                break;
            case OrderFulfilled f:
                if (line(f.LineNo) is { } fulfilled)
                {
                    if (fulfilled.Delivered is { } before) o.Delivered -= before;
                    fulfilled.Delivered = f.Delivered;
                    fulfilled.Cards = f.Cards.Count;
                    fulfilled.FailureReason = f.FailureReason;
                    o.Delivered += f.Delivered;
                }
                break;
            case OrderCompleted c:
                o.Status = c.Status == nameof(OrderStatus.Completed) ? nameof(OrderStatus.Completed)
                    : nameof(OrderStatus.PartiallyCompleted);
                o.Captured = c.Captured; o.Released = c.Released; o.Revenue = c.Revenue; o.VendorCost = c.Payables.Sum(x => x.Amount);
                break;
            case OrderFailed f: o.Status = nameof(OrderStatus.Failed); o.Reason = f.Reason; o.Released = f.Released; break;
            case OrderCancelled c: o.Status = nameof(OrderStatus.Cancelled); o.Reason = c.Reason; o.Released = o.Held; break;
            case OrderRetried:
                // A new round starts from placement: the failed round's outcome no longer describes the order.
                o.Status = nameof(OrderStatus.Placed); o.Reason = null; o.Held = 0; o.Released = 0; o.Delivered = 0;
                foreach (var lineNo in lineNos())
                    if (line(lineNo) is { } again)
                        (again.RequestId, again.Attempts, again.LastAttemptError, again.Delivered, again.Cards,
                            again.FailureReason) = (null, 0, null, null, 0, null);
                break;
            case OrderRefunded r:
                o.Refunded += r.Amount;
                o.Status = o.Refunded >= o.Captured ? nameof(OrderStatus.Refunded) : nameof(OrderStatus.PartiallyRefunded);
                break;
        }
    }

    /// <summary>One upsert per table.</summary>
    private static async Task Write(Changes changes, ProjectionContext context)
    {
        if (changes.Orders.Count > 0)
        {
            var orders = ColumnArrays.Of(changes.Orders)
                .With("order_id", o => o.OrderId).With("partner_id", o => o.PartnerId).With("client_reference", o => o.ClientReference)
                .With("status", o => o.Status).With("currency", o => o.Currency).With("total", o => o.Total).With("held", o => o.Held)
                .With("captured", o => o.Captured).With("released", o => o.Released).With("revenue", o => o.Revenue)
                .With("vendor_cost", o => o.VendorCost).With("refunded", o => o.Refunded).With("rejection_code", o => o.RejectionCode)
                .With("reason", o => o.Reason).With("lines", o => o.Lines).With("units", o => o.Units).With("delivered", o => o.Delivered)
                .With("placed_at", o => o.PlacedAt).With("updated_at", o => o.UpdatedAt).With("last_revision", o => o.LastRevision)
                .With("last_commit_position", o => o.LastCommitPosition).With("last_prepare_position", o => o.LastPreparePosition);
            await context.Execute($$"""
                insert into {schema}.orders as o ({{orders.Columns}}) select * from {{orders.Unnest()}}
                on conflict (order_id) do update set
                    status = excluded.status, held = excluded.held, captured = excluded.captured, released = excluded.released,
                    revenue = excluded.revenue, vendor_cost = excluded.vendor_cost, refunded = excluded.refunded,
                    rejection_code = excluded.rejection_code, reason = excluded.reason, delivered = excluded.delivered,
                    updated_at = excluded.updated_at, last_revision = excluded.last_revision,
                    last_commit_position = excluded.last_commit_position, last_prepare_position = excluded.last_prepare_position
                """, orders.Parameters);
        }

        if (changes.Lines.Count > 0)
        {
            var lines = ColumnArrays.Of(changes.Lines)
                .With("order_id", l => l.OrderId).With("line_no", l => l.LineNo).With("sku", l => l.Sku).With("quantity", l => l.Quantity)
                .With("face_value", l => l.FaceValue).With("unit_price", l => l.UnitPrice).With("unit_cost", l => l.UnitCost)
                .With("product_type", l => l.ProductType).With("source", l => l.Source).With("vendor_product_id", l => l.VendorProductId)
                .With("negative_margin", l => l.NegativeMargin).With("request_id", l => l.RequestId).With("attempts", l => l.Attempts)
                .With("last_attempt_error", l => l.LastAttemptError).With("delivered", l => l.Delivered).With("cards", l => l.Cards)
                .With("failure_reason", l => l.FailureReason);
            await context.Execute($$"""
                insert into {schema}.order_lines as l ({{lines.Columns}}) select * from {{lines.Unnest()}}
                on conflict (order_id, line_no) do update set
                    source = excluded.source, request_id = excluded.request_id, attempts = excluded.attempts,
                    last_attempt_error = excluded.last_attempt_error, delivered = excluded.delivered, cards = excluded.cards,
                    failure_reason = excluded.failure_reason
                """, lines.Parameters);
        }
    }
}
