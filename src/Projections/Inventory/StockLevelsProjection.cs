using Steller.Domain.Inventory;
using Steller.Application.EventStore;
using Steller.Application.Inventory;
using Steller.Application.Serialization;
using Steller.Projections.Engine;

namespace Steller.Projections.Inventory;

/// <summary>
/// read.stock_levels: one row per (sku, location) with on hand, reserved, available = on hand − reserved, the
/// low-stock threshold and flag (available at or below a threshold above 0), and the last log position and
/// revision applied. One upsert per batch: the batch is folded into per-item deltas first.
/// </summary>
public sealed class StockLevelsProjection : IProjection
{
    private readonly EventTypeRegistry registry = ProjectionEvents.Registry;
    public string Name => "stock_levels";
    public int Version => 1;
    public IReadOnlySet<string>? EventTypes => StockEventTypes.All;
    public IReadOnlyList<string> Tables { get; } = ["stock_levels"];

    public string CreateTablesSql(string schema) => $"""
        create table {schema}.stock_levels (
            sku                   text        not null,
            location              text        not null,
            on_hand               bigint      not null,
            reserved              bigint      not null,
            available             bigint      generated always as (on_hand - reserved) stored,
            low_threshold         bigint      not null,
            low                   boolean     generated always as (low_threshold > 0 and on_hand - reserved <= low_threshold) stored,
            last_commit_position  bigint      not null,
            last_prepare_position bigint      not null,
            last_revision         bigint      not null,
            updated_at            timestamptz not null,
            primary key (sku, location)
        );
        create index on {schema}.stock_levels (location, sku);
        create index on {schema}.stock_levels (sku, location) where low;
        """;

    public IReadOnlyList<ReadViewDoc> Docs { get; } =
    [
        new("stock_levels", "One row per stocked product and location: units on hand, reserved and available.",
            ("sku", "Steller's product id (a stocked voucher)."),
            ("location", "Where the stock is kept, e.g. main."),
            ("on_hand", "Units physically held."),
            ("reserved", "Units reserved for orders not yet settled."),
            ("available", "on_hand − reserved: units that can be sold now."),
            ("low_threshold", "The low-stock threshold, units (0: off)."),
            ("low", "True when the threshold is above 0 and available is at or below it."),
            ("last_commit_position", "Global log position (commit part) of the last event applied."),
            ("last_prepare_position", "Global log position (prepare part) of the last event applied."),
            ("last_revision", "Revision of the stock item's event stream last applied."),
            ("updated_at", "Recorded time (UTC) of the last change applied.")),
    ];

    /// <summary>What a batch does to one stock item: on hand and reserved moved by, the last threshold set, the last event.</summary>
    public sealed record Delta(long OnHand, long Reserved, long? Threshold, long Revision, long Commit, long Prepare, DateTime At);

    /// <summary>The pure fold: stock events of the batch (in log order, with their item) to one delta per item.</summary>
    public static IReadOnlyDictionary<(string Sku,
        string Location), Delta> Fold(IEnumerable<(RecordedEvent Recorded, IStockEvent Event, string Sku, string Location)> events)
    {
        var deltas = new Dictionary<(string Sku, string Location), Delta>();
        foreach (var (recorded, e, sku, location) in events)
        {
            var d = deltas.GetValueOrDefault((sku, location)) ?? new Delta(0, 0, null, 0, 0, 0, default);
            d = e switch
            {
                StockReceived r => d with { OnHand = d.OnHand + r.Quantity },
                StockAdjusted a => d with { OnHand = d.OnHand + a.Quantity },
                StockTransferredIn t => d with { OnHand = d.OnHand + t.Quantity },
                StockTransferredOut t => d with { OnHand = d.OnHand - t.Quantity },
                StockReserved r => d with { Reserved = d.Reserved + r.Quantity },
                ReservationCommitted c => d with { OnHand = d.OnHand - c.Quantity, Reserved = d.Reserved - c.Quantity },
                ReservationReleased r => d with { Reserved = d.Reserved - r.Quantity },
                LowThresholdSet t => d with { Threshold = t.Threshold },
                _ => d,
            };
            deltas[(sku, location)] = d with
            {
                Revision = recorded.Revision.Value, Commit = (long)recorded.Position.Commit, Prepare = (long)recorded.Position.Prepare,
                At = recorded.Metadata.RecordedAt.UtcDateTime,
            };
        }
        return deltas;
    }

    public async Task Apply(IReadOnlyList<RecordedEvent> events, ProjectionContext context)
    {
        var deltas = Fold(StockStreams.Read(registry, events));
        if (deltas.Count == 0) return;
        var rows = ColumnArrays.Of(deltas.ToList())
            .With("sku", d => d.Key.Sku).With("location", d => d.Key.Location).With("on_hand", d => d.Value.OnHand)
            .With("reserved", d => d.Value.Reserved).With("last_commit_position", d => d.Value.Commit)
            .With("last_prepare_position", d => d.Value.Prepare).With("last_revision", d => d.Value.Revision)
            .With("updated_at", d => d.Value.At);
        await context.Execute($$"""
            insert into {schema}.stock_levels as s ({{rows.Columns}}, low_threshold)
            select {{rows.Columns}}, 0 from {{rows.Unnest()}}
            on conflict (sku, location) do update set
                on_hand = s.on_hand + excluded.on_hand,
                reserved = s.reserved + excluded.reserved,
                last_commit_position = excluded.last_commit_position,
                last_prepare_position = excluded.last_prepare_position,
                last_revision = excluded.last_revision,
                updated_at = excluded.updated_at
            """, rows.Parameters);

        // The threshold is a value, not a delta: the last one set in the batch wins.
        var thresholds = ColumnArrays.Of(deltas.Where(d => d.Value.Threshold is not null).ToList())
            .With("sku", t => t.Key.Sku).With("location", t => t.Key.Location).With("threshold", t => t.Value.Threshold!.Value);
        if (thresholds.Count > 0)
            await context.Execute($$"""
                update {schema}.stock_levels s set low_threshold = t.threshold
                from {{thresholds.Unnest("t")}}
                where s.sku = t.sku and s.location = t.location
                """, thresholds.Parameters);
    }
}
