using Dapper;
using Steller.Application.EventStore;
using Steller.Application.Serialization;
using Steller.Domain.Catalog;
using Steller.Domain.Partners;
using Steller.Projections.Engine;

namespace Steller.Projections.Catalog;

/// <summary>
/// read.negative_margin_products: every (partner, sku) whose partner price is below cost at the product's reference
/// face value (the fixed one; min and max of a range, keeping the worse). The price guardrail's dashboard.
/// <para>
/// It keeps its own copies of what it needs, so it rebuilds on its own: read.negative_margin_partners (every
/// onboarded partner and its margin, null = no margin: price = face value) and read.negative_margin_catalog (the
/// active products' face values and costs). Per batch it applies those changes, then recomputes the pairs of every
/// partner and sku the batch touched with <see cref="Pricing"/>, the same code that quotes orders.
/// </para>
/// </summary>
public sealed class NegativeMarginsProjection : IProjection
{
    private static readonly EventTypeRegistry Registry = ProjectionEvents.Registry;
    private const string PartnerPrefix = "partner-";

    public string Name => "negative_margin_products";
    public int Version => 1;
    public IReadOnlySet<string>? EventTypes { get; } =
        EventTypeSet.Union(CatalogEventTypes.Product, EventNames.Of<PartnerOnboarded>(), EventNames.Of<MarginSet>());
    public IReadOnlyList<string> Tables { get; } = ["negative_margin_products", "negative_margin_partners", "negative_margin_catalog"];

    public string CreateTablesSql(string schema) => $"""
        create table {schema}.negative_margin_partners (
            partner_id   text    primary key,
            margin_basis text    null,
            margin_bp    integer null
        );
        create table {schema}.negative_margin_catalog (
            sku              text    primary key,
            currency         text    not null,
            face_value_fixed bigint  null,
            face_value_min   bigint  null,
            face_value_max   bigint  null,
            cost_amount      bigint  null,
            cost_discount_bp integer null,
            active           boolean not null
        );
        create table {schema}.negative_margin_products (
            partner_id   text    not null,
            sku          text    not null,
            currency     text    not null,
            face_value   bigint  not null,
            unit_cost    bigint  not null,
            unit_price   bigint  not null,
            margin       bigint  not null,
            margin_basis text    null,
            margin_bp    integer null,
            primary key (partner_id, sku)
        );
        create index on {schema}.negative_margin_products (sku);
        """;

    public IReadOnlyList<ReadViewDoc> Docs { get; } =
    [
        new("negative_margin_products", "Every (partner, sku) whose partner price is below Steller's cost at the product's reference face value (the fixed one; for a range, the worse of min and max): the price guardrail's dashboard.",
            ("partner_id", "The partner."),
            ("sku", "Steller's product id."),
            ("currency", "Currency of the amounts (ISO 4217)."),
            ("face_value", "The face value the price was computed at, minor units."),
            ("unit_cost", "What one unit costs Steller at that face value, minor units."),
            ("unit_price", "What the partner pays for one unit, minor units."),
            ("margin", "unit_price − unit_cost, minor units: negative (a loss on every unit sold)."),
            ("margin_basis", "The partner's pricing: cost-plus or discount-share; null when it pays face value."),
            ("margin_bp", "Basis points of that margin basis; null when it pays face value.")),
        new("negative_margin_partners", "The projection's copy of every partner's margin (working data for negative_margin_products).",
            ("partner_id", "The partner."),
            ("margin_basis", "cost-plus (price = cost + bp of cost) or discount-share (the partner gets bp of the vendor's discount); null: price = face value."),
            ("margin_bp", "Basis points of the margin basis; null when none is set.")),
        new("negative_margin_catalog", "The projection's copy of every product's face value and cost (working data for negative_margin_products).",
            ("sku", "Steller's product id."),
            ("currency", "Currency of the amounts (ISO 4217)."),
            ("face_value_fixed", "Face value of a fixed-value product, minor units; null for a range product."),
            ("face_value_min", "Lowest face value of a range product, minor units; null for a fixed one."),
            ("face_value_max", "Highest face value of a range product, minor units; null for a fixed one."),
            ("cost_amount", "Unit cost, minor units; null when the cost is a discount."),
            ("cost_discount_bp", "Cost as a discount on the face value, basis points; null when it is an amount."),
            ("active", "True while the product is listed.")),
    ];

    private sealed record PartnerRow(string PartnerId, string? MarginBasis, int? MarginBp);
    private sealed record CatalogRow(string Sku, string Currency, long? FaceValueFixed, long? FaceValueMin, long? FaceValueMax,
        long? CostAmount, int? CostDiscountBp);

    public async Task Apply(IReadOnlyList<RecordedEvent> events, ProjectionContext context)
    {
        var partners = new HashSet<string>(StringComparer.Ordinal);
        var skus = new HashSet<string>(StringComparer.Ordinal);
        foreach (var e in events)
        {
            var data = Registry.Deserialize(e.Type, e.Data.Span);
            if (e.StreamId.StartsWith(PartnerPrefix, StringComparison.Ordinal))
            {
                var partnerId = e.StreamId[PartnerPrefix.Length..];
                switch (data)
                {
                    case PartnerOnboarded:
                        await context.Execute(
                            "insert into {schema}.negative_margin_partners (partner_id) values (@partnerId) on conflict do nothing",
                            new { partnerId });
                        partners.Add(partnerId);
                        break;
                    case MarginSet m:
                        await context.Execute("""
                            insert into {schema}.negative_margin_partners (partner_id, margin_basis, margin_bp) values (@partnerId, @basis, @bp)
                            on conflict (partner_id) do update set margin_basis = excluded.margin_basis, margin_bp = excluded.margin_bp
                            """, new { partnerId, basis = m.Basis, bp = m.BasisPoints });
                        partners.Add(partnerId);
                        break;
                }
                continue;
            }
            if (!Product.TryParseStreamName(e.StreamId, out var sku)) continue;
            skus.Add(sku);
            switch (data)
            {
                case ProductListed l:
                    await context.Execute("""
                        insert into {schema}.negative_margin_catalog as c (sku, currency, face_value_fixed, face_value_min, face_value_max, cost_amount, cost_discount_bp, active)
                        values (@sku, @currency, @fixed, @min, @max, @amount, @bp, true)
                        on conflict (sku) do update set currency = excluded.currency, face_value_fixed = excluded.face_value_fixed, face_value_min = excluded.face_value_min,
                            face_value_max = excluded.face_value_max, cost_amount = excluded.cost_amount, cost_discount_bp = excluded.cost_discount_bp, active = true
                        """, new { sku, currency = l.Currency, @fixed = l.FixedFaceValue, min = l.MinFaceValue, max = l.MaxFaceValue,
                            amount = l.CostAmount, bp = l.CostDiscountBasisPoints });
                    break;
                case ProductUpdated u:
                    await context.Execute("""
                        update {schema}.negative_margin_catalog set currency = @currency, face_value_fixed = @fixed, face_value_min = @min, face_value_max = @max where sku = @sku
                        """, new { sku, currency = u.Currency, @fixed = u.FixedFaceValue, min = u.MinFaceValue, max = u.MaxFaceValue });
                    break;
                case ProductCostChanged c:
                    await context.Execute(
                        "update {schema}.negative_margin_catalog set cost_amount = @amount, cost_discount_bp = @bp where sku = @sku",
                        new { sku, amount = c.NewCostAmount, bp = c.NewCostDiscountBasisPoints });
                    break;
                case ProductDelisted:
                    await context.Execute("update {schema}.negative_margin_catalog set active = false where sku = @sku", new { sku });
                    break;
            }
        }
        if (partners.Count == 0 && skus.Count == 0) return;

        var allPartners = (await Query<PartnerRow>(context,
            "select partner_id as PartnerId, margin_basis as MarginBasis, margin_bp as MarginBp from "
            + "{schema}.negative_margin_partners")).ToList();
        var activeProducts = (await Query<CatalogRow>(context, """
            select sku as Sku, currency as Currency, face_value_fixed as FaceValueFixed, face_value_min as FaceValueMin, face_value_max as FaceValueMax,
                   cost_amount as CostAmount, cost_discount_bp as CostDiscountBp
              from {schema}.negative_margin_catalog where active
            """)).ToList();

        var pairs = new List<(PartnerRow Partner, CatalogRow Product, UnitPrice Price)>();
        foreach (var product in activeProducts)
        {
            var details = new ProductDetails(ProductDetails.Stocked, null, "-", "-", "ZZ", product.Currency, ProductTypes.Voucher,
                product.FaceValueFixed, product.FaceValueMin, product.FaceValueMax);
            var cost = new ProductCost(product.CostAmount, product.CostDiscountBp);
            foreach (var partner in allPartners)
            {
                if (!partners.Contains(partner.PartnerId) && !skus.Contains(product.Sku)) continue;
                var margin = partner.MarginBasis is null ? null : new Margin(partner.MarginBasis, partner.MarginBp ?? 0);
                if (Pricing.WorstNegativeMargin(details, cost, margin) is { } worst) pairs.Add((partner, product, worst));
            }
        }

        await context.Execute("delete from {schema}.negative_margin_products where partner_id = any(@partners) or sku = any(@skus)",
            new { partners = partners.ToArray(), skus = skus.ToArray() });
        if (pairs.Count == 0) return;
        var rows = ColumnArrays.Of(pairs)
            .With("partner_id", p => p.Partner.PartnerId).With("sku", p => p.Product.Sku).With("currency", p => p.Product.Currency)
            .With("face_value", p => p.Price.FaceValue).With("unit_cost", p => p.Price.UnitCost).With("unit_price", p => p.Price.Price)
            .With("margin", p => p.Price.Margin).With("margin_basis", p => p.Partner.MarginBasis)
            .With("margin_bp", p => p.Partner.MarginBp);
        await context.Execute($"insert into {{schema}}.negative_margin_products ({rows.Columns}) select * from {rows.Unnest()}",
            rows.Parameters);
    }

    private static Task<IEnumerable<T>> Query<T>(ProjectionContext context, string sql) =>
        context.Query<T>(sql.Replace("{schema}", context.Schema), null);
}
