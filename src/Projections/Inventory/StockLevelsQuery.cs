using Dapper;
using Npgsql;
using Steller.Projections.Wallets;

namespace Steller.Projections.Inventory;

public sealed record StockLevel(string Sku, string Location, long OnHand, long Reserved, long Available, long LowThreshold, bool Low,
    long LastRevision, DateTime UpdatedAt);

public sealed record StockLevelPage(IReadOnlyList<StockLevel> Items, string? Next);

/// <summary>Reads read.stock_levels: filtered by sku, location and the low flag, ordered by (sku, location), keyset pages.</summary>
public sealed class StockLevelsQuery(NpgsqlDataSource dataSource)
{
    public const int DefaultLimit = 100, MaxLimit = 1_000;

    /// <param name="after">The (sku, location) of the last row of the previous page, or null for the first page.</param>
    public async Task<StockLevelPage> Page(string? sku, string? location, bool? low, int limit, (string Sku, string Location)? after,
        CancellationToken ct = default)
    {
        try
        {
            await using var conn = await dataSource.OpenConnectionAsync(ct);
            var rows = (await conn.QueryAsync<StockLevel>(new CommandDefinition("""
                select sku as Sku, location as Location, on_hand as OnHand, reserved as Reserved, available as Available,
                       low_threshold as LowThreshold, low as Low, last_revision as LastRevision, updated_at as UpdatedAt
                  from read.stock_levels
                 where (@sku::text is null or sku = @sku)
                   and (@location::text is null or location = @location)
                   and (@low::boolean is null or low = @low)
                   and (@afterSku::text is null or (sku, location) > (@afterSku, @afterLocation))
                 order by sku, location
                 limit @take
                """, new { sku, location, low, afterSku = after?.Sku, afterLocation = after?.Location, take = limit + 1 },
                    cancellationToken: ct))).ToList();
            var more = rows.Count > limit;
            if (more) rows.RemoveAt(rows.Count - 1);
            return new StockLevelPage(rows, more ? $"{rows[^1].Sku}.{rows[^1].Location}" : null);
        }
        catch (Exception e) when (ReadModelNotReadyException.Is(e)) { throw new ReadModelNotReadyException("read.stock_levels", e); }
    }
}
