using Dapper;
using Npgsql;
using Steller.Application.Orders;

namespace Steller.Infrastructure.Orders;

/// <summary>
/// The locations of a stocked sku from read.stock_levels, by name. Eventually consistent: a location whose first
/// receipt is not projected yet is not offered (the order is rejected as out of stock, never oversold: the stock
/// item itself decides every reservation).
/// </summary>
public sealed class ReadModelStockLocations(NpgsqlDataSource db) : IStockLocations
{
    public async Task<IReadOnlyList<string>> LocationsOf(string sku, CancellationToken ct = default)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<string>(new CommandDefinition(
            "select location from read.stock_levels where sku = @sku order by location", new { sku }, cancellationToken: ct))).ToList();
    }
}
