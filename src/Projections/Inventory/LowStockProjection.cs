using Dapper;
using Steller.Application.EventStore;
using Steller.Application.Inventory;
using Steller.Application.Serialization;
using Steller.Domain.Inventory;
using Steller.Projections.Engine;

namespace Steller.Projections.Inventory;

/// <summary>
/// read.low_stock: the stock items low right now (threshold above 0 and available at or below it, the rule of
/// read.stock_levels), with low_since = recorded time of the event that made the item low. A row goes when the item
/// recovers (or the threshold is turned off or lowered below available) and comes back, with a new low_since, when it
/// falls again. read.low_stock_watch holds the running levels of every item the rows are decided from.
/// </summary>
public sealed class LowStockProjection : IProjection
{
    public const string ProjectionName = "low_stock";
    private readonly EventTypeRegistry registry = EventTypeRegistry.ForDomain();

    public string Name => ProjectionName;
    public int Version => 1;
    public IReadOnlySet<string>? EventTypes => StockEventTypes.All;
    public IReadOnlyList<string> Tables { get; } = ["low_stock_watch", "low_stock"];

    public string CreateTablesSql(string schema) => $"""
        create table {schema}.low_stock_watch (
            sku          text        not null,
            location     text        not null,
            on_hand      bigint      not null,
            reserved     bigint      not null,
            threshold    bigint      not null,
            low_since    timestamptz,            -- null while not low
            primary key (sku, location)
        );
        create table {schema}.low_stock (
            sku              text        not null,
            location         text        not null,
            available        bigint      not null,
            threshold        bigint      not null,
            low_since        timestamptz not null,
            last_revision    bigint      not null,
            updated_at       timestamptz not null,
            primary key (sku, location)
        );
        create index on {schema}.low_stock (low_since, sku, location);
        """;

    private sealed class Item
    {
        public required string Sku, Location;
        public long OnHand, Reserved, Threshold, Revision;
        public DateTime? LowSince;
        public DateTime UpdatedAt;
        public bool IsLow => Threshold > 0 && OnHand - Reserved <= Threshold;
    }

    public async Task Apply(IReadOnlyList<RecordedEvent> events, ProjectionContext context)
    {
        var stockEvents = new List<(RecordedEvent Recorded, IStockEvent Event, string Sku, string Location)>();
        foreach (var e in events)
            if (Stock.TryParseStreamName(e.StreamId, out var sku, out var location) && registry.Deserialize(e.Type, e.Data.Span) is IStockEvent se)
                stockEvents.Add((e, se, sku, location));
        if (stockEvents.Count == 0) return;

        var keys = stockEvents.Select(s => (s.Sku, s.Location)).Distinct().ToArray();
        var items = (await context.Connection.QueryAsync<Item>(new CommandDefinition($"""
                select w.sku as Sku, w.location as Location, w.on_hand as OnHand, w.reserved as Reserved, w.threshold as Threshold, w.low_since as LowSince
                  from {context.Schema}.low_stock_watch w
                  join unnest(@skus, @locations) as k(sku, location) on k.sku = w.sku and k.location = w.location
                """, new { skus = keys.Select(k => k.Sku).ToArray(), locations = keys.Select(k => k.Location).ToArray() },
                context.Transaction, cancellationToken: context.CancellationToken)))
            .ToDictionary(i => (i.Sku, i.Location));

        foreach (var (recorded, e, sku, location) in stockEvents)
        {
            var item = items.TryGetValue((sku, location), out var known) ? known : items[(sku, location)] = new Item { Sku = sku, Location = location };
            switch (e)
            {
                case StockReceived r: item.OnHand += r.Quantity; break;
                case StockAdjusted a: item.OnHand += a.Quantity; break;
                case StockTransferredOut t: item.OnHand -= t.Quantity; break;
                case StockTransferredIn t: item.OnHand += t.Quantity; break;
                case StockReserved r: item.Reserved += r.Quantity; break;
                case ReservationCommitted c: item.OnHand -= c.Quantity; item.Reserved -= c.Quantity; break;
                case ReservationReleased r: item.Reserved -= r.Quantity; break;
                case LowThresholdSet t: item.Threshold = t.Threshold; break;
            }
            var at = recorded.Metadata.RecordedAt.UtcDateTime;
            item.LowSince = item.IsLow ? item.LowSince ?? at : null;
            item.Revision = recorded.Revision.Value;
            item.UpdatedAt = at;
        }

        var all = items.Values.ToArray();
        await context.Execute("""
            insert into {schema}.low_stock_watch as w (sku, location, on_hand, reserved, threshold, low_since)
            select * from unnest(@skus, @locations, @onHand, @reserved, @thresholds, @lowSince)
            on conflict (sku, location) do update set
                on_hand = excluded.on_hand, reserved = excluded.reserved, threshold = excluded.threshold, low_since = excluded.low_since
            """, new
        {
            skus = all.Select(i => i.Sku).ToArray(),
            locations = all.Select(i => i.Location).ToArray(),
            onHand = all.Select(i => i.OnHand).ToArray(),
            reserved = all.Select(i => i.Reserved).ToArray(),
            thresholds = all.Select(i => i.Threshold).ToArray(),
            lowSince = all.Select(i => i.LowSince).ToArray(),
        });

        var recovered = all.Where(i => i.LowSince is null).ToArray();
        if (recovered.Length > 0)
            await context.Execute("""
                delete from {schema}.low_stock l using unnest(@skus, @locations) as k(sku, location)
                 where l.sku = k.sku and l.location = k.location
                """, new { skus = recovered.Select(i => i.Sku).ToArray(), locations = recovered.Select(i => i.Location).ToArray() });

        var low = all.Where(i => i.LowSince is not null).ToArray();
        if (low.Length > 0)
            await context.Execute("""
                insert into {schema}.low_stock as l (sku, location, available, threshold, low_since, last_revision, updated_at)
                select * from unnest(@skus, @locations, @available, @thresholds, @lowSince, @revisions, @updated)
                on conflict (sku, location) do update set
                    available = excluded.available, threshold = excluded.threshold, low_since = excluded.low_since,
                    last_revision = excluded.last_revision, updated_at = excluded.updated_at
                """, new
            {
                skus = low.Select(i => i.Sku).ToArray(),
                locations = low.Select(i => i.Location).ToArray(),
                available = low.Select(i => i.OnHand - i.Reserved).ToArray(),
                thresholds = low.Select(i => i.Threshold).ToArray(),
                lowSince = low.Select(i => i.LowSince!.Value).ToArray(),
                revisions = low.Select(i => i.Revision).ToArray(),
                updated = low.Select(i => i.UpdatedAt).ToArray(),
            });
    }
}
