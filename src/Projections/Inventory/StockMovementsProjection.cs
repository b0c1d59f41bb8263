using Dapper;
using Steller.Application.EventStore;
using Steller.Application.Inventory;
using Steller.Application.Serialization;
using Steller.Domain.Inventory;
using Steller.Projections.Engine;

namespace Steller.Projections.Inventory;

/// <summary>
/// read.stock_movements: one row per stock event that changes on hand or reserved, in stream order, with the signed
/// deltas, the running on hand / reserved after it, what caused it (reason, reference, order, counterpart location,
/// actor, correlation id). Voucher codes never enter this table, sealed or not: only how many moved.
/// Per batch: one read of the touched items' last totals and of the orders of reservations closed in the batch,
/// a fold in memory, then one insert.
/// </summary>
public sealed class StockMovementsProjection : IProjection
{
    public const string ProjectionName = "stock_movements";
    private readonly EventTypeRegistry registry = ProjectionEvents.Registry;

    public string Name => ProjectionName;
    public int Version => 1;
    public IReadOnlySet<string>? EventTypes => StockEventTypes.Movements;
    public IReadOnlyList<string> Tables { get; } = ["stock_movements"];

    public string CreateTablesSql(string schema) => $"""
        create table {schema}.stock_movements (
            sku                 text        not null,
            location            text        not null,
            stream_revision     bigint      not null,
            commit_position     bigint      not null,
            prepare_position    bigint      not null,
            recorded_at         timestamptz not null,
            kind                text        not null,  -- received, adjusted, transferred_out, transferred_in, reserved, committed, released
            on_hand_delta       bigint      not null,
            reserved_delta      bigint      not null,
            on_hand_after       bigint      not null,
            reserved_after      bigint      not null,
            reason              text,                  -- adjustment or release reason
            reference           text        not null,  -- receipt, adjustment, transfer or reservation id
            order_id            text,
            counterpart_location text,                 -- the other side of a transfer
            voucher_count       int,                   -- codes that moved (never the codes themselves)
            actor               text        not null,
            correlation_id      text        not null,
            event_id            uuid        not null,
            primary key (sku, location, stream_revision)
        );
        create index on {schema}.stock_movements (sku, location, recorded_at);
        create index on {schema}.stock_movements (sku, location, reference) where kind = 'reserved';
        create index on {schema}.stock_movements (order_id) where order_id is not null;
        """;

    public IReadOnlyList<ReadViewDoc> Docs { get; } =
    [
        new("stock_movements", "One row per stock event that changes units on hand or reserved, in stream order. Never voucher codes.",
            ("sku", "Steller's product id (a stocked voucher)."),
            ("location", "Where the stock is kept."),
            ("stream_revision", "Revision of the event in the stock item's stream (orders the rows of one item)."),
            ("commit_position", "Global log position (commit part) of the event."),
            ("prepare_position", "Global log position (prepare part) of the event."),
            ("recorded_at", "When the event was recorded (UTC)."),
            ("kind", "received, adjusted, transferred_out, transferred_in, reserved, committed or released."),
            ("on_hand_delta", "Change of units on hand (signed)."),
            ("reserved_delta", "Change of units reserved (signed)."),
            ("on_hand_after", "Units on hand after the event."),
            ("reserved_after", "Units reserved after the event."),
            ("reason", "Why: the adjustment or release reason; null otherwise."),
            ("reference", "The receipt, adjustment, transfer or reservation id."),
            ("order_id", "The order of a reservation, commit or release; null otherwise."),
            ("counterpart_location", "The other location of a transfer; null otherwise."),
            ("voucher_count", "How many voucher codes moved (never the codes); null for a movement that carries no codes (reservations, releases, stock without codes)."),
            ("actor", "Who caused it (from the event's metadata: admin:{token name}, partner:{id} or system:...)."),
            ("correlation_id", "The request or process the event belongs to (to find it in logs)."),
            ("event_id", "The event's id in the event store.")),
    ];

    /// <summary>Kinds as stored and shown (API, CSV).</summary>
    public static readonly IReadOnlyList<string> Kinds = ["received", "adjusted", "transferred_out", "transferred_in", "reserved",
        "committed", "released"];

    /// <summary>One row of read.stock_movements.</summary>
    public sealed record Movement(string Sku, string Location, long Revision, long Commit, long Prepare, DateTime At, string Kind,
        long OnHandDelta, long ReservedDelta, long OnHandAfter, long ReservedAfter, string? Reason, string Reference, string? OrderId,
        string? Counterpart, int? VoucherCount, string Actor, string CorrelationId, Guid EventId);

    /// <summary>What the batch needs from earlier batches: each item's running totals, and the orders of reservations it closes.</summary>
    public sealed record Loaded(
        IReadOnlyDictionary<(string Sku, string Location), (long OnHand, long Reserved)> Totals,
        IReadOnlyDictionary<(string Sku, string Location, string ReservationId), string> Orders);

    private sealed record Totals(string Sku, string Location, long OnHand, long Reserved);

    public async Task Apply(IReadOnlyList<RecordedEvent> events, ProjectionContext context)
    {
        var stockEvents = StockStreams.Read(registry, events).ToList();
        if (stockEvents.Count == 0) return;
        var rows = Fold(await Load(stockEvents, context), stockEvents);
        if (rows.Count > 0) await Write(rows, context);
    }

    private static async Task<Loaded> Load(IReadOnlyList<(RecordedEvent Recorded, IStockEvent Event, string Sku,
        string Location)> stockEvents,
        ProjectionContext context)
    {
        var items = ColumnArrays.Of(stockEvents.Select(s => (s.Sku, s.Location)).Distinct().ToList())
            .With("sku", i => i.Sku).With("location", i => i.Location);
        var totals = (await context.Query<Totals>($"""
                select distinct on (m.sku, m.location) m.sku as Sku, m.location as Location, m.on_hand_after as OnHand, m.reserved_after as Reserved
                  from {context.Schema}.stock_movements m
                  join {items.Unnest("i")} on i.sku = m.sku and i.location = m.location
                 order by m.sku, m.location, m.stream_revision desc
                """, items.Parameters))
            .ToDictionary(t => (t.Sku, t.Location), t => (t.OnHand, t.Reserved));

        var orders = new Dictionary<(string Sku, string Location, string ReservationId), string>();
        var closing = ColumnArrays.Of(stockEvents.Select(s => s.Event switch
            {
                ReservationCommitted c => (s.Sku, s.Location, c.ReservationId),
                ReservationReleased r => (s.Sku, s.Location, r.ReservationId),
                _ => default,
            }).Where(k => k.ReservationId is not null).Distinct().ToList())
            .With("sku", k => k.Sku).With("location", k => k.Location).With("reference", k => k.ReservationId);
        if (closing.Count > 0)
            foreach (var o in await context.Query<(string Sku, string Location, string Reference,
                string OrderId)>($"""
                    select m.sku, m.location, m.reference, m.order_id
                      from {context.Schema}.stock_movements m
                      join {closing.Unnest("k")} on k.sku = m.sku and k.location = m.location and k.reference = m.reference and m.kind = 'reserved'
                    """, closing.Parameters))
                orders[(o.Sku, o.Location, o.Reference)] = o.OrderId;
        return new Loaded(totals, orders);
    }

    /// <summary>The pure fold: what was loaded and the batch's stock events in log order, to the movement rows to insert.</summary>
    public static IReadOnlyList<Movement> Fold(Loaded loaded,
        IEnumerable<(RecordedEvent Recorded, IStockEvent Event, string Sku, string Location)> events)
    {
        var totals = new Dictionary<(string Sku, string Location), (long OnHand, long Reserved)>(loaded.Totals);
        var orders = new Dictionary<(string Sku, string Location, string ReservationId), string>(loaded.Orders);
        var rows = new List<Movement>();
        foreach (var (recorded, e, sku, location) in events)
        {
            string? OrderOf(string reservationId) => orders.GetValueOrDefault((sku, location, reservationId));
            (string? Kind, long OnHand, long Reserved, string? Reason, string Reference, string? OrderId, string? Counterpart,
                int? Vouchers) m = e switch
            {
                StockReceived r => ("received", r.Quantity, 0L, null, r.ReceiptId, null, null, r.Vouchers?.Count),
                StockAdjusted a => ("adjusted", a.Quantity, 0L, a.Reason, a.AdjustmentId, null, null, a.RemovedVoucherIds?.Count),
                StockTransferredOut t => ("transferred_out", -t.Quantity, 0L, null, t.TransferId, null, t.ToLocation, t.Vouchers?.Count),
                StockTransferredIn t => ("transferred_in", t.Quantity, 0L, null, t.TransferId, null, t.FromLocation, t.Vouchers?.Count),
                StockReserved r => ("reserved", 0L, r.Quantity, null, r.ReservationId, r.OrderId, null, null),
                ReservationCommitted c
                    => ("committed", -c.Quantity, -c.Quantity, null, c.ReservationId, OrderOf(c.ReservationId), null, c.Vouchers?.Count),
                ReservationReleased r => ("released", 0L, -r.Quantity, r.Reason, r.ReservationId, OrderOf(r.ReservationId), null, null),
                _ => (null, 0L, 0L, null, "", null, null, null), // the low threshold: not a movement
            };
            if (m.Kind is not { } kind) continue;
            var (_, onHand, reserved, reason, reference, orderId, counterpart, vouchers) = m;

            var (onHandBefore, reservedBefore) = totals.GetValueOrDefault((sku, location));
            var after = (OnHand: onHandBefore + onHand, Reserved: reservedBefore + reserved);
            totals[(sku, location)] = after;
            if (e is StockReserved placed) orders[(sku, location, placed.ReservationId)] = placed.OrderId;
            rows.Add(new Movement(sku, location, recorded.Revision.Value, (long)recorded.Position.Commit, (long)recorded.Position.Prepare,
                recorded.Metadata.RecordedAt.UtcDateTime, kind, onHand, reserved, after.OnHand, after.Reserved, reason, reference, orderId,
                counterpart, vouchers, recorded.Metadata.Actor, recorded.Metadata.CorrelationId, recorded.EventId));
        }
        return rows;
    }

    private static Task Write(IReadOnlyList<Movement> rows, ProjectionContext context)
    {
        var columns = ColumnArrays.Of(rows)
            .With("sku", r => r.Sku).With("location", r => r.Location).With("stream_revision", r => r.Revision)
            .With("commit_position", r => r.Commit).With("prepare_position", r => r.Prepare).With("recorded_at", r => r.At)
            .With("kind", r => r.Kind).With("on_hand_delta", r => r.OnHandDelta).With("reserved_delta", r => r.ReservedDelta)
            .With("on_hand_after", r => r.OnHandAfter).With("reserved_after", r => r.ReservedAfter).With("reason", r => r.Reason)
            .With("reference", r => r.Reference).With("order_id", r => r.OrderId).With("counterpart_location", r => r.Counterpart)
            .With("voucher_count", r => r.VoucherCount).With("actor", r => r.Actor).With("correlation_id", r => r.CorrelationId)
            .With("event_id", r => r.EventId);
        return context.Execute($"insert into {{schema}}.stock_movements ({columns.Columns}) select * from {columns.Unnest()}",
            columns.Parameters);
    }
}
