using Steller.Application.EventStore;
using Steller.Application.Serialization;
using Steller.Domain.Catalog;
using Steller.Projections.Engine;

namespace Steller.Projections.Catalog;

/// <summary>
/// read.product_cost_history: one row per listing, cost change and delist of a product (kind 'listed',
/// 'cost-changed', 'delisted'), with the cost after it and the cost before it. One insert per batch.
/// </summary>
public sealed class ProductCostHistoryProjection : IProjection
{
    private static readonly EventTypeRegistry Registry = ProjectionEvents.Registry;

    public string Name => "product_cost_history";
    public int Version => 1;
    public IReadOnlySet<string>? EventTypes { get; } =
        EventTypeSet.Union(EventNames.Of<ProductListed>(), EventNames.Of<ProductCostChanged>(), EventNames.Of<ProductDelisted>());
    public IReadOnlyList<string> Tables { get; } = ["product_cost_history"];

    public string CreateTablesSql(string schema) => $"""
        create table {schema}.product_cost_history (
            sku                        text        not null,
            revision                   bigint      not null,
            kind                       text        not null,
            cost_amount                bigint      null,
            cost_discount_bp           integer     null,
            previous_cost_amount       bigint      null,
            previous_cost_discount_bp  integer     null,
            currency                   text        null,
            recorded_at                timestamptz not null,
            actor                      text        not null,
            primary key (sku, revision)
        );
        """;

    public IReadOnlyList<ReadViewDoc> Docs { get; } =
    [
        new("product_cost_history", "One row per listing, cost change and delisting of a product, with its cost after and before.",
            ("sku", "Steller's product id."),
            ("revision", "Revision of the product's event stream (orders the rows of one sku)."),
            ("kind", "listed, cost-changed or delisted."),
            ("cost_amount", "Unit cost after the change, minor units; null when the cost is a discount."),
            ("cost_discount_bp", "Cost after the change as a discount on the face value, basis points; null when it is an amount."),
            ("previous_cost_amount", "Unit cost before the change, minor units; null at listing or when it was a discount."),
            ("previous_cost_discount_bp", "Discount before the change, basis points; null at listing or when it was an amount."),
            ("currency", "Currency of the costs (ISO 4217), on the listing row; null on later rows (a product keeps its currency)."),
            ("recorded_at", "When the change was recorded (UTC)."),
            ("actor", "Who made it (from the event's metadata: admin:{token name}, or the system, e.g. the catalog sync).")),
    ];

    /// <summary>One row of read.product_cost_history.</summary>
    public sealed record Row(string Sku, long Revision, string Kind, long? Amount, int? Bp, long? PreviousAmount, int? PreviousBp,
        string? Currency, DateTime At, string Actor);

    /// <summary>The pure fold: the batch's product events (with their sku, in log order) to the history rows they add.</summary>
    public static IReadOnlyList<Row> Fold(IEnumerable<(RecordedEvent Recorded, string Sku, object? Event)> events)
    {
        var rows = new List<Row>();
        foreach (var (e, sku, data) in events)
        {
            var (revision, at, actor) = ((long)e.Revision.Value, e.Metadata.RecordedAt.UtcDateTime, e.Metadata.Actor);
            Row? row = data switch
            {
                ProductListed l => new(sku, revision, "listed", l.CostAmount, l.CostDiscountBasisPoints, null, null, l.Currency, at, actor),
                ProductCostChanged c => new(sku, revision, "cost-changed", c.NewCostAmount, c.NewCostDiscountBasisPoints, c.OldCostAmount,
                    c.OldCostDiscountBasisPoints, null, at, actor),
                ProductDelisted => new(sku, revision, "delisted", null, null, null, null, null, at, actor),
                _ => null,
            };
            if (row is not null) rows.Add(row);
        }
        return rows;
    }

    public async Task Apply(IReadOnlyList<RecordedEvent> events, ProjectionContext context)
    {
        var rows = Fold(events.Select(e => (Recorded: e, Ok: Product.TryParseStreamName(e.StreamId, out var sku), Sku: sku))
            .Where(x => x.Ok).Select(x => (x.Recorded, x.Sku, Registry.Deserialize(x.Recorded.Type, x.Recorded.Data.Span))));
        if (rows.Count == 0) return;
        var columns = ColumnArrays.Of(rows)
            .With("sku", r => r.Sku).With("revision", r => r.Revision).With("kind", r => r.Kind).With("cost_amount", r => r.Amount)
            .With("cost_discount_bp", r => r.Bp).With("previous_cost_amount", r => r.PreviousAmount)
            .With("previous_cost_discount_bp", r => r.PreviousBp).With("currency", r => r.Currency).With("recorded_at", r => r.At)
            .With("actor", r => r.Actor);
        await context.Execute($$"""
            insert into {schema}.product_cost_history ({{columns.Columns}}) select * from {{columns.Unnest()}}
            on conflict (sku, revision) do nothing
            """, columns.Parameters);
    }
}
