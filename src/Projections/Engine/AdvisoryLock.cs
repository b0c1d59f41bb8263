using Dapper;
using Npgsql;

namespace Steller.Projections.Engine;

/// <summary>
/// A PostgreSQL session advisory lock held on a connection of its own: one runner (or rebuild) per projection
/// across every node. Released explicitly, because a pooled connection would otherwise keep it while idle.
/// </summary>
public sealed class AdvisoryLock : IAsyncDisposable
{
    private readonly NpgsqlConnection connection;
    private AdvisoryLock(NpgsqlConnection connection) => this.connection = connection;

    /// <summary>True while the session that holds the lock is still connected.</summary>
    public bool IsHeld => connection.FullState == System.Data.ConnectionState.Open;

    public static async Task<AdvisoryLock?> TryAcquire(NpgsqlDataSource dataSource, string purpose, string name, CancellationToken ct)
    {
        var conn = await dataSource.OpenConnectionAsync(ct);
        try
        {
            var got = await conn.ExecuteScalarAsync<bool>(new CommandDefinition(
                "select pg_try_advisory_lock(hashtext(@purpose), hashtext(@name))", new { purpose = $"steller.projection.{purpose}", name }, cancellationToken: ct));
            if (got) return new AdvisoryLock(conn);
        }
        catch
        {
            await conn.DisposeAsync();
            throw;
        }
        await conn.DisposeAsync();
        return null;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (IsHeld) await connection.ExecuteAsync("select pg_advisory_unlock_all()");
        }
        catch (NpgsqlException) { /* the session is gone, and its locks with it */ }
        await connection.DisposeAsync();
    }
}
