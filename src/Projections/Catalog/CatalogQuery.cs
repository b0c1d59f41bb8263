using Dapper;
using Npgsql;
using Steller.Application.Catalog;
using Steller.Projections.Wallets;

namespace Steller.Projections.Catalog;

/// <summary>A row of read.catalog_products; <see cref="Available"/> = units available over all locations (stocked products only).</summary>
public sealed record CatalogRow(
    string Sku, string Source, string? Vendor, string? VendorProductId, string Name, string Brand, string Country, string Currency,
        string ProductType,
    long? FaceValueFixed, long? FaceValueMin, long? FaceValueMax, long? CostAmount, int? CostDiscountBp, bool Active, long LastRevision,
        long? Available);

public sealed record CatalogPage(IReadOnlyList<CatalogRow> Items, string? Next);

public sealed record CostHistoryEntry(long Revision, string Kind, long? CostAmount, int? CostDiscountBp, long? PreviousCostAmount,
    int? PreviousCostDiscountBp, string? Currency, DateTime RecordedAt, string Actor);

public sealed record NegativeMargin(string PartnerId, string Sku, string Currency, long FaceValue, long UnitCost, long UnitPrice,
    long Margin, string? MarginBasis, int? MarginBp);

public sealed record NegativeMarginPage(long Count, IReadOnlyList<NegativeMargin> Items, string? Next);

/// <summary>Reads the catalog read models (eventually consistent): partner catalog pages, cost history, negative margins.</summary>
public sealed class CatalogQuery(NpgsqlDataSource dataSource) : ICatalogIndex
{
    public const int DefaultLimit = 50, MaxLimit = 500;

    /// <summary>Active products, filtered, ordered by sku; <paramref name="afterSku"/> is the last sku of the previous page.</summary>
    public Task<CatalogPage> Page(string? country, string? brand, string? type, int limit, string? afterSku,
            CancellationToken ct = default) =>
        Read("read.catalog_products", async conn =>
        {
            var rows = (await conn.QueryAsync<CatalogRow>(new CommandDefinition("""
                select c.sku as Sku, c.source as Source, c.vendor as Vendor, c.vendor_product_id as VendorProductId, c.name as Name, c.brand as Brand,
                       c.country as Country, c.currency as Currency, c.product_type as ProductType,
                       c.face_value_fixed as FaceValueFixed, c.face_value_min as FaceValueMin, c.face_value_max as FaceValueMax,
                       c.cost_amount as CostAmount, c.cost_discount_bp as CostDiscountBp, c.active as Active, c.last_revision as LastRevision,
                       case when c.source = 'stocked'
                            then coalesce((select sum(s.available) from read.stock_levels s where s.sku = c.sku), 0)::bigint end as Available
                  from read.catalog_products c
                 where c.active
                   and (@country::text is null or c.country = @country)
                   and (@brand::text is null or lower(c.brand) = lower(@brand))
                   and (@type::text is null or c.product_type = @type)
                   and (@afterSku::text is null or c.sku > @afterSku)
                 order by c.sku
                 limit @take
                """, new { country, brand, type, afterSku, take = limit + 1 }, cancellationToken: ct))).ToList();
            var more = rows.Count > limit;
            if (more) rows.RemoveAt(rows.Count - 1);
            return new CatalogPage(rows, more ? rows[^1].Sku : null);
        }, ct);

    public Task<IReadOnlyList<CostHistoryEntry>> CostHistory(string sku, CancellationToken ct = default) =>
        Read("read.product_cost_history", async conn
            => (IReadOnlyList<CostHistoryEntry>)(await conn.QueryAsync<CostHistoryEntry>(new CommandDefinition("""
            select revision as Revision, kind as Kind, cost_amount as CostAmount, cost_discount_bp as CostDiscountBp,
                   previous_cost_amount as PreviousCostAmount, previous_cost_discount_bp as PreviousCostDiscountBp,
                   currency as Currency, recorded_at as RecordedAt, actor as Actor
              from read.product_cost_history where sku = @sku order by revision
            """, new { sku }, cancellationToken: ct))).ToList(), ct);

    /// <summary>Negative-margin pairs, filtered, ordered by (partner, sku), with the total count of the filter.</summary>
    public Task<NegativeMarginPage> NegativeMargins(string? partnerId, string? sku, int limit, (string PartnerId, string Sku)? after,
            CancellationToken ct = default) =>
        Read("read.negative_margin_products", async conn =>
        {
            var filter = new { partnerId, sku, afterPartner = after?.PartnerId, afterSku = after?.Sku, take = limit + 1 };
            const string where = """
                 where (@partnerId::text is null or partner_id = @partnerId)
                   and (@sku::text is null or sku = @sku)
                """;
            var count = await conn.ExecuteScalarAsync<long>(
                new CommandDefinition($"select count(*) from read.negative_margin_products {where}", filter, cancellationToken: ct));
            var rows = (await conn.QueryAsync<NegativeMargin>(new CommandDefinition($"""
                select partner_id as PartnerId, sku as Sku, currency as Currency, face_value as FaceValue, unit_cost as UnitCost, unit_price as UnitPrice,
                       margin as Margin, margin_basis as MarginBasis, margin_bp as MarginBp
                  from read.negative_margin_products
                {where}
                   and (@afterPartner::text is null or (partner_id, sku) > (@afterPartner, @afterSku))
                 order by partner_id, sku
                 limit @take
                """, filter, cancellationToken: ct))).ToList();
            var more = rows.Count > limit;
            if (more) rows.RemoveAt(rows.Count - 1);
            return new NegativeMarginPage(count, rows, more ? $"{rows[^1].PartnerId}.{rows[^1].Sku}" : null);
        }, ct);

    public async Task<IReadOnlyList<string>?> SkusOfSource(string source, CancellationToken ct = default)
    {
        try
        {
            return await Read("read.catalog_products", async conn
                    => (IReadOnlyList<string>)(await conn.QueryAsync<string>(new CommandDefinition(
                "select sku from read.catalog_products where source = @source", new { source }, cancellationToken: ct))).ToList(), ct);
        }
        catch (Wallets.ReadModelNotReadyException) { return null; } // first start: the projection has not created it yet
    }

    private async Task<T> Read<T>(string table, Func<NpgsqlConnection, Task<T>> query, CancellationToken ct)
    {
        try
        {
            await using var conn = await dataSource.OpenConnectionAsync(ct);
            return await query(conn);
        }
        catch (Exception e) when (ReadModelNotReadyException.Is(e)) { throw new ReadModelNotReadyException(table, e); }
    }
}
