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
    private static readonly EventTypeRegistry Registry = EventTypeRegistry.ForDomain();

    public string Name => "product_cost_history";
    public int Version => 1;
    public IReadOnlySet<string>? EventTypes { get; } = new HashSet<string> { "catalog.product-listed.v1", "catalog.product-cost-changed.v1", "catalog.product-delisted.v1" };
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

    private sealed record Row(string Sku, long Revision, string Kind, long? Amount, int? Bp, long? PreviousAmount, int? PreviousBp, string? Currency, DateTime At, string Actor);

    public async Task Apply(IReadOnlyList<RecordedEvent> events, ProjectionContext context)
    {
        var rows = new List<Row>();
        foreach (var e in events)
        {
            if (!Product.TryParseStreamName(e.StreamId, out var sku)) continue;
            var (revision, at, actor) = ((long)e.Revision.Value, e.Metadata.RecordedAt.UtcDateTime, e.Metadata.Actor);
            switch (Registry.Deserialize(e.Type, e.Data.Span))
            {
                case ProductListed l: rows.Add(new(sku, revision, "listed", l.CostAmount, l.CostDiscountBasisPoints, null, null, l.Currency, at, actor)); break;
                case ProductCostChanged c: rows.Add(new(sku, revision, "cost-changed", c.NewCostAmount, c.NewCostDiscountBasisPoints, c.OldCostAmount, c.OldCostDiscountBasisPoints, null, at, actor)); break;
                case ProductDelisted: rows.Add(new(sku, revision, "delisted", null, null, null, null, null, at, actor)); break;
            }
        }
        if (rows.Count == 0) return;
        await context.Execute("""
            insert into {schema}.product_cost_history (sku, revision, kind, cost_amount, cost_discount_bp, previous_cost_amount, previous_cost_discount_bp, currency, recorded_at, actor)
            select * from unnest(@skus, @revisions, @kinds, @amounts, @bps, @previousAmounts, @previousBps, @currencies, @ats, @actors)
            on conflict (sku, revision) do nothing
            """, new
        {
            skus = rows.Select(r => r.Sku).ToArray(),
            revisions = rows.Select(r => r.Revision).ToArray(),
            kinds = rows.Select(r => r.Kind).ToArray(),
            amounts = rows.Select(r => r.Amount).ToArray(),
            bps = rows.Select(r => r.Bp).ToArray(),
            previousAmounts = rows.Select(r => r.PreviousAmount).ToArray(),
            previousBps = rows.Select(r => r.PreviousBp).ToArray(),
            currencies = rows.Select(r => r.Currency).ToArray(),
            ats = rows.Select(r => r.At).ToArray(),
            actors = rows.Select(r => r.Actor).ToArray(),
        });
    }
}
