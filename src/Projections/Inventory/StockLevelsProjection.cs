using System.Text.Json;
using Steller.Domain.Inventory;
using Steller.Application.EventStore;
using Steller.Application.Inventory;
using Steller.Projections.Engine;

namespace Steller.Projections.Inventory;

/// <summary>
/// read.stock_levels: one row per (sku, location) with on hand, reserved, available = on hand − reserved, the
/// low-stock threshold and flag (available at or below a threshold above 0), and the last log position and
/// revision applied. One upsert per batch: the batch is folded into per-item deltas first.
/// </summary>
public sealed class StockLevelsProjection : IProjection
{
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

    private sealed class Delta
    {
        public long OnHand, Reserved, Revision, Commit, Prepare;
        public long? Threshold;
        public DateTime At;
    }

    public async Task Apply(IReadOnlyList<RecordedEvent> events, ProjectionContext context)
    {
        var deltas = new Dictionary<(string Sku, string Location), Delta>();
        foreach (var e in events)
        {
            if (!Stock.TryParseStreamName(e.StreamId, out var sku, out var location)) continue;
            var d = deltas.TryGetValue((sku, location), out var seen) ? seen : deltas[(sku, location)] = new Delta();
            using var doc = JsonDocument.Parse(e.Data);
            var root = doc.RootElement;
            long Quantity() => root.GetProperty("quantity").GetInt64();
            switch (e.Type)
            {
                case "stock.received.v1" or "stock.received.v2" or "stock.adjusted.v1" or "stock.adjusted.v2" or "stock.transferred-in.v1": d.OnHand += Quantity(); break;
                case "stock.transferred-out.v1": d.OnHand -= Quantity(); break;
                case "stock.reserved.v1": d.Reserved += Quantity(); break;
                case "stock.reservation-committed.v1" or "stock.reservation-committed.v2": d.OnHand -= Quantity(); d.Reserved -= Quantity(); break;
                case "stock.reservation-released.v1": d.Reserved -= Quantity(); break;
                case "stock.low-threshold-set.v1": d.Threshold = root.GetProperty("threshold").GetInt64(); break;
            }
            (d.Revision, d.Commit, d.Prepare, d.At) = ((long)e.Revision.Value, (long)e.Position.Commit, (long)e.Position.Prepare, e.Metadata.RecordedAt.UtcDateTime);
        }
        if (deltas.Count == 0) return;
        await context.Execute("""
            insert into {schema}.stock_levels as s (sku, location, on_hand, reserved, low_threshold, last_commit_position, last_prepare_position, last_revision, updated_at)
            select d.sku, d.location, d.on_hand, d.reserved, 0, d.commit_position, d.prepare_position, d.revision, d.at
            from unnest(@skus, @locations, @onHand, @reserved, @commits, @prepares, @revisions, @at)
                 as d(sku, location, on_hand, reserved, commit_position, prepare_position, revision, at)
            on conflict (sku, location) do update set
                on_hand = s.on_hand + excluded.on_hand,
                reserved = s.reserved + excluded.reserved,
                last_commit_position = excluded.last_commit_position,
                last_prepare_position = excluded.last_prepare_position,
                last_revision = excluded.last_revision,
                updated_at = excluded.updated_at
            """, new
        {
            skus = deltas.Keys.Select(k => k.Sku).ToArray(),
            locations = deltas.Keys.Select(k => k.Location).ToArray(),
            onHand = deltas.Values.Select(d => d.OnHand).ToArray(),
            reserved = deltas.Values.Select(d => d.Reserved).ToArray(),
            commits = deltas.Values.Select(d => d.Commit).ToArray(),
            prepares = deltas.Values.Select(d => d.Prepare).ToArray(),
            revisions = deltas.Values.Select(d => d.Revision).ToArray(),
            at = deltas.Values.Select(d => d.At).ToArray(),
        });

        // The threshold is a value, not a delta: the last one set in the batch wins.
        var thresholds = deltas.Where(d => d.Value.Threshold is not null).ToList();
        if (thresholds.Count > 0)
            await context.Execute("""
                update {schema}.stock_levels s set low_threshold = t.threshold
                from unnest(@skus, @locations, @thresholds) as t(sku, location, threshold)
                where s.sku = t.sku and s.location = t.location
                """, new
            {
                skus = thresholds.Select(t => t.Key.Sku).ToArray(),
                locations = thresholds.Select(t => t.Key.Location).ToArray(),
                thresholds = thresholds.Select(t => t.Value.Threshold!.Value).ToArray(),
            });
    }
}
