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
    private readonly EventTypeRegistry registry = EventTypeRegistry.ForDomain();

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

    /// <summary>Kinds as stored and shown (API, CSV).</summary>
    public static readonly IReadOnlyList<string> Kinds = ["received", "adjusted", "transferred_out", "transferred_in", "reserved", "committed", "released"];

    private sealed record Movement(string Sku, string Location, long Revision, long Commit, long Prepare, DateTime At, string Kind,
        long OnHandDelta, long ReservedDelta, long OnHandAfter, long ReservedAfter, string? Reason, string Reference, string? OrderId,
        string? Counterpart, int? VoucherCount, string Actor, string CorrelationId, Guid EventId);

    private sealed record Totals(string Sku, string Location, long OnHand, long Reserved);

    public async Task Apply(IReadOnlyList<RecordedEvent> events, ProjectionContext context)
    {
        var stockEvents = new List<(RecordedEvent Recorded, IStockEvent Event, string Sku, string Location)>();
        foreach (var e in events)
        {
            if (!Stock.TryParseStreamName(e.StreamId, out var sku, out var location)) continue;
            if (registry.Deserialize(e.Type, e.Data.Span) is IStockEvent se) stockEvents.Add((e, se, sku, location));
        }
        if (stockEvents.Count == 0) return;

        // 1. What the batch needs from earlier batches: running totals, and the orders of reservations it closes.
        var items = stockEvents.Select(s => (s.Sku, s.Location)).Distinct().ToArray();
        var totals = (await context.Connection.QueryAsync<Totals>(new CommandDefinition($"""
                select distinct on (m.sku, m.location) m.sku as Sku, m.location as Location, m.on_hand_after as OnHand, m.reserved_after as Reserved
                  from {context.Schema}.stock_movements m
                  join unnest(@skus, @locations) as i(sku, location) on i.sku = m.sku and i.location = m.location
                 order by m.sku, m.location, m.stream_revision desc
                """, new { skus = items.Select(i => i.Sku).ToArray(), locations = items.Select(i => i.Location).ToArray() },
                context.Transaction, cancellationToken: context.CancellationToken)))
            .ToDictionary(t => (t.Sku, t.Location), t => (t.OnHand, t.Reserved));

        var orders = new Dictionary<(string Sku, string Location, string ReservationId), string>();
        var closing = stockEvents.Select(s => s.Event switch
        {
            ReservationCommitted c => (s.Sku, s.Location, c.ReservationId),
            ReservationReleased r => (s.Sku, s.Location, r.ReservationId),
            _ => default,
        }).Where(k => k.ReservationId is not null).Distinct().ToArray();
        if (closing.Length > 0)
            foreach (var o in await context.Connection.QueryAsync<(string Sku, string Location, string Reference, string OrderId)>(new CommandDefinition($"""
                    select m.sku, m.location, m.reference, m.order_id
                      from {context.Schema}.stock_movements m
                      join unnest(@skus, @locations, @ids) as k(sku, location, reference)
                        on k.sku = m.sku and k.location = m.location and k.reference = m.reference and m.kind = 'reserved'
                    """, new { skus = closing.Select(k => k.Sku).ToArray(), locations = closing.Select(k => k.Location).ToArray(), ids = closing.Select(k => k.ReservationId).ToArray() },
                    context.Transaction, cancellationToken: context.CancellationToken)))
                orders[(o.Sku, o.Location, o.Reference)] = o.OrderId;

        // 2. Fold in log order.
        var rows = new List<Movement>(stockEvents.Count);
        foreach (var (recorded, e, sku, location) in stockEvents)
        {
            string? OrderOf(string reservationId) => orders.GetValueOrDefault((sku, location, reservationId));
            (string? Kind, long OnHand, long Reserved, string? Reason, string Reference, string? OrderId, string? Counterpart, int? Vouchers) m = e switch
            {
                StockReceived r => ("received", r.Quantity, 0L, null, r.ReceiptId, null, null, r.Vouchers?.Count),
                StockAdjusted a => ("adjusted", a.Quantity, 0L, a.Reason, a.AdjustmentId, null, null, a.RemovedVoucherIds?.Count),
                StockTransferredOut t => ("transferred_out", -t.Quantity, 0L, null, t.TransferId, null, t.ToLocation, t.Vouchers?.Count),
                StockTransferredIn t => ("transferred_in", t.Quantity, 0L, null, t.TransferId, null, t.FromLocation, t.Vouchers?.Count),
                StockReserved r => ("reserved", 0L, r.Quantity, null, r.ReservationId, r.OrderId, null, null),
                ReservationCommitted c => ("committed", -c.Quantity, -c.Quantity, null, c.ReservationId, OrderOf(c.ReservationId), null, c.Vouchers?.Count),
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
        if (rows.Count == 0) return;

        // 3. One insert.
        await context.Execute("""
            insert into {schema}.stock_movements (sku, location, stream_revision, commit_position, prepare_position, recorded_at, kind,
                on_hand_delta, reserved_delta, on_hand_after, reserved_after, reason, reference, order_id, counterpart_location,
                voucher_count, actor, correlation_id, event_id)
            select * from unnest(@skus, @locations, @revisions, @commits, @prepares, @times, @kinds, @onHandDeltas, @reservedDeltas,
                @onHandAfter, @reservedAfter, @reasons, @references, @orders, @counterparts, @vouchers, @actors, @correlations, @eventIds)
            """, new
        {
            skus = rows.Select(r => r.Sku).ToArray(),
            locations = rows.Select(r => r.Location).ToArray(),
            revisions = rows.Select(r => r.Revision).ToArray(),
            commits = rows.Select(r => r.Commit).ToArray(),
            prepares = rows.Select(r => r.Prepare).ToArray(),
            times = rows.Select(r => r.At).ToArray(),
            kinds = rows.Select(r => r.Kind).ToArray(),
            onHandDeltas = rows.Select(r => r.OnHandDelta).ToArray(),
            reservedDeltas = rows.Select(r => r.ReservedDelta).ToArray(),
            onHandAfter = rows.Select(r => r.OnHandAfter).ToArray(),
            reservedAfter = rows.Select(r => r.ReservedAfter).ToArray(),
            reasons = rows.Select(r => r.Reason).ToArray(),
            references = rows.Select(r => r.Reference).ToArray(),
            orders = rows.Select(r => r.OrderId).ToArray(),
            counterparts = rows.Select(r => r.Counterpart).ToArray(),
            vouchers = rows.Select(r => r.VoucherCount).ToArray(),
            actors = rows.Select(r => r.Actor).ToArray(),
            correlations = rows.Select(r => r.CorrelationId).ToArray(),
            eventIds = rows.Select(r => r.EventId).ToArray(),
        });
    }
}
