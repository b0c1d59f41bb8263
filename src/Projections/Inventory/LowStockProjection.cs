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
    private readonly EventTypeRegistry registry = ProjectionEvents.Registry;

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

    public IReadOnlyList<ReadViewDoc> Docs { get; } =
    [
        new("low_stock", "Stock items low right now: a threshold above 0 and available at or below it. A row goes when the item recovers.",
            ("sku", "Steller's product id (a stocked voucher)."),
            ("location", "Where the stock is kept, e.g. main."),
            ("available", "Units on hand and not reserved."),
            ("threshold", "The low-stock threshold, units."),
            ("low_since", "When the item became low (UTC): recorded time of the event that made it low."),
            ("last_revision", "Revision of the stock item's event stream last applied."),
            ("updated_at", "Recorded time (UTC) of the last change applied.")),
        new("low_stock_watch", "Running levels of every stock item (working data for low_stock).",
            ("sku", "Steller's product id (a stocked voucher)."),
            ("location", "Where the stock is kept."),
            ("on_hand", "Units physically held."),
            ("reserved", "Units reserved for orders not yet settled."),
            ("threshold", "The low-stock threshold, units (0: off)."),
            ("low_since", "When the item became low (UTC); null while not low.")),
    ];

    /// <summary>The running levels of one item, as read.low_stock_watch keeps them.</summary>
    public sealed class Item
    {
        public required string Sku, Location;
        public long OnHand, Reserved, Threshold, Revision;
        public DateTime? LowSince;
        public DateTime UpdatedAt;
        public bool IsLow => Threshold > 0 && OnHand - Reserved <= Threshold;
        public Item Copy() => (Item)MemberwiseClone();
    }

    /// <summary>
    /// The pure fold: the items as loaded (left unchanged) and the batch's stock events in log order, to every item the
    /// batch touched as it stands after the batch.
    /// </summary>
    public static IReadOnlyList<Item> Fold(IReadOnlyDictionary<(string Sku, string Location), Item> loaded,
        IEnumerable<(RecordedEvent Recorded, IStockEvent Event, string Sku, string Location)> events)
    {
        var items = new Dictionary<(string, string), Item>();
        foreach (var (recorded, e, sku, location) in events)
        {
            if (!items.TryGetValue((sku, location), out var item))
                items[(sku, location)] = item = loaded.GetValueOrDefault((sku, location))?.Copy()
                    ?? new Item { Sku = sku, Location = location };
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
        return items.Values.ToList();
    }

    public async Task Apply(IReadOnlyList<RecordedEvent> events, ProjectionContext context)
    {
        var stockEvents = StockStreams.Read(registry, events).ToList();
        if (stockEvents.Count == 0) return;
        var all = Fold(await Load(stockEvents.Select(s => (s.Sku, s.Location)).Distinct().ToList(), context), stockEvents);
        await Write(all, context);
    }

    private static async Task<IReadOnlyDictionary<(string Sku,
        string Location), Item>> Load(IReadOnlyList<(string Sku, string Location)> keys, ProjectionContext context)
    {
        var k = ColumnArrays.Of(keys).With("sku", x => x.Sku).With("location", x => x.Location);
        return (await context.Query<Item>($"""
                select w.sku as Sku, w.location as Location, w.on_hand as OnHand, w.reserved as Reserved, w.threshold as Threshold, w.low_since as LowSince
                  from {context.Schema}.low_stock_watch w
                  join {k.Unnest("k")} on k.sku = w.sku and k.location = w.location
                """, k.Parameters))
            .ToDictionary(i => (i.Sku, i.Location));
    }

    private static async Task Write(IReadOnlyList<Item> all, ProjectionContext context)
    {
        var watch = ColumnArrays.Of(all).With("sku", i => i.Sku).With("location", i => i.Location).With("on_hand", i => i.OnHand)
            .With("reserved", i => i.Reserved).With("threshold", i => i.Threshold).With("low_since", i => i.LowSince);
        await context.Execute($$"""
            insert into {schema}.low_stock_watch as w ({{watch.Columns}}) select * from {{watch.Unnest()}}
            on conflict (sku, location) do update set
                on_hand = excluded.on_hand, reserved = excluded.reserved, threshold = excluded.threshold, low_since = excluded.low_since
            """, watch.Parameters);

        var recovered = ColumnArrays.Of(all.Where(i => i.LowSince is null).ToList()).With("sku", i => i.Sku)
            .With("location", i => i.Location);
        if (recovered.Count > 0)
            await context.Execute($$"""
                delete from {schema}.low_stock l using {{recovered.Unnest("k")}}
                 where l.sku = k.sku and l.location = k.location
                """, recovered.Parameters);

        var low = ColumnArrays.Of(all.Where(i => i.LowSince is not null).ToList())
            .With("sku", i => i.Sku).With("location", i => i.Location).With("available", i => i.OnHand - i.Reserved)
            .With("threshold", i => i.Threshold).With("low_since", i => i.LowSince!.Value).With("last_revision", i => i.Revision)
            .With("updated_at", i => i.UpdatedAt);
        if (low.Count > 0)
            await context.Execute($$"""
                insert into {schema}.low_stock as l ({{low.Columns}}) select * from {{low.Unnest()}}
                on conflict (sku, location) do update set
                    available = excluded.available, threshold = excluded.threshold, low_since = excluded.low_since,
                    last_revision = excluded.last_revision, updated_at = excluded.updated_at
                """, low.Parameters);
    }
}
