using Steller.Application.EventStore;
using Steller.Application.Serialization;
using Steller.Domain.Catalog;
using Steller.Projections.Engine;

namespace Steller.Projections.Catalog;

/// <summary>
/// read.catalog_products: one row per sku with its source, vendor, details, face value (fixed or min/max), cost
/// (absolute or discount bp), active flag and last revision applied. Catalog changes are rare (a sync every 30
/// minutes, admin edits), so this applies one small statement per event rather than folding the batch.
/// </summary>
public sealed class CatalogProductsProjection : IProjection
{
    private static readonly EventTypeRegistry Registry = ProjectionEvents.Registry;

    public string Name => "catalog_products";
    public int Version => 1;
    public IReadOnlySet<string>? EventTypes { get; } = CatalogEventTypes.Product;
    public IReadOnlyList<string> Tables { get; } = ["catalog_products"];

    public string CreateTablesSql(string schema) => $"""
        create table {schema}.catalog_products (
            sku                text        primary key,
            source             text        not null,
            vendor             text        null,
            vendor_product_id  text        null,
            name               text        not null,
            brand              text        not null,
            country            text        not null,
            currency           text        not null,
            product_type       text        not null,
            face_value_fixed   bigint      null,
            face_value_min     bigint      null,
            face_value_max     bigint      null,
            cost_amount        bigint      null,
            cost_discount_bp   integer     null,
            active             boolean     not null,
            last_revision      bigint      not null,
            updated_at         timestamptz not null
        );
        create index on {schema}.catalog_products (source, sku);
        create index on {schema}.catalog_products (country, brand, product_type, sku) where active;
        """;

    public IReadOnlyList<ReadViewDoc> Docs { get; } =
    [
        new("catalog_products", "One row per product (sku) in the catalog, listed or delisted, as it stands now.",
            ("sku", "Steller's product id."),
            ("source", "Where the product is fulfilled from: stocked (Steller's own vouchers) or the vendor (giftcard, topup)."),
            ("vendor", "The vendor that fulfils it; null for stocked products."),
            ("vendor_product_id", "The product's id at the vendor; null for stocked products."),
            ("name", "Product name."),
            ("brand", "Brand, e.g. Amazon.de."),
            ("country", "Country where it can be redeemed (ISO 3166 alpha-2)."),
            ("currency", "Currency of its face value and cost (ISO 4217)."),
            ("product_type", "gift_card, top_up or voucher."),
            ("face_value_fixed", "Face value of a fixed-value product, minor units; null for a range product."),
            ("face_value_min", "Lowest face value of a range product, minor units; null for a fixed one."),
            ("face_value_max", "Highest face value of a range product, minor units; null for a fixed one."),
            ("cost_amount", "What one unit costs Steller, minor units; null when the cost is a discount."),
            ("cost_discount_bp", "Cost as a discount on the face value, basis points (cost = face − floor(face × bp / 10000)); null when the cost is an amount."),
            ("active", "True while listed (orderable); false once delisted."),
            ("last_revision", "Revision of the product's event stream last applied."),
            ("updated_at", "Recorded time (UTC) of the last change applied.")),
    ];

    public async Task Apply(IReadOnlyList<RecordedEvent> events, ProjectionContext context)
    {
        foreach (var e in events)
        {
            if (!Product.TryParseStreamName(e.StreamId, out var sku)) continue;
            var revision = (long)e.Revision.Value;
            var at = e.Metadata.RecordedAt.UtcDateTime;
            switch (Registry.Deserialize(e.Type, e.Data.Span))
            {
                case ProductListed l:
                    await context.Execute("""
                        insert into {schema}.catalog_products as p (sku, source, vendor, vendor_product_id, name, brand, country, currency, product_type,
                            face_value_fixed, face_value_min, face_value_max, cost_amount, cost_discount_bp, active, last_revision, updated_at)
                        values (@sku, @source, @vendor, @vendorProductId, @name, @brand, @country, @currency, @type,
                            @fixed, @min, @max, @costAmount, @costBp, true, @revision, @at)
                        on conflict (sku) do update set source = excluded.source, vendor = excluded.vendor, vendor_product_id = excluded.vendor_product_id,
                            name = excluded.name, brand = excluded.brand, country = excluded.country, currency = excluded.currency, product_type = excluded.product_type,
                            face_value_fixed = excluded.face_value_fixed, face_value_min = excluded.face_value_min, face_value_max = excluded.face_value_max,
                            cost_amount = excluded.cost_amount, cost_discount_bp = excluded.cost_discount_bp, active = true,
                            last_revision = excluded.last_revision, updated_at = excluded.updated_at
                        """, new
                    {
                        sku, source = l.Source, vendor = l.Source == ProductDetails.Stocked ? null : l.Source,
                            vendorProductId = l.VendorProductId,
                        name = l.Name, brand = l.Brand, country = l.Country, currency = l.Currency, type = l.ProductType,
                        @fixed = l.FixedFaceValue, min = l.MinFaceValue, max = l.MaxFaceValue, costAmount = l.CostAmount,
                    costBp = l.CostDiscountBasisPoints, revision, at, });
                    break;
                case ProductUpdated u:
                    await context.Execute("""
                        update {schema}.catalog_products set name = @name, brand = @brand, country = @country, currency = @currency, product_type = @type,
                            face_value_fixed = @fixed, face_value_min = @min, face_value_max = @max, last_revision = @revision, updated_at = @at
                        where sku = @sku
                        """, new { sku, name = u.Name, brand = u.Brand, country = u.Country, currency = u.Currency, type = u.ProductType,
                            @fixed = u.FixedFaceValue, min = u.MinFaceValue, max = u.MaxFaceValue, revision, at });
                    break;
                case ProductCostChanged c:
                    await context.Execute("""
                        update {schema}.catalog_products set cost_amount = @amount, cost_discount_bp = @bp, last_revision = @revision, updated_at = @at where sku = @sku
                        """, new { sku, amount = c.NewCostAmount, bp = c.NewCostDiscountBasisPoints, revision, at });
                    break;
                case ProductDelisted:
                    await context.Execute(
                        "update {schema}.catalog_products set active = false, last_revision = @revision, updated_at = @at where sku = @sku",
                        new { sku, revision, at });
                    break;
            }
        }
    }
}

public static class CatalogEventTypes
{
    public static readonly IReadOnlySet<string> Product = Application.Serialization.EventNames.Of<Domain.Catalog.IProductEvent>();
}
