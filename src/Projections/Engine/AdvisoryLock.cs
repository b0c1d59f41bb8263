using Dapper;
using Npgsql;

namespace Steller.Projections.Engine;

/// <summary>
/// A PostgreSQL session advisory lock held on a connection of its own: one runner (or rebuild) per projection
/// across every node. Released explicitly, because a pooled connection would otherwise keep it while idle.
/// The holder asks the server every <see cref="HeartbeatInterval"/> whether the session still lives: a session the server
/// terminated (an administrator, a failover, a network cut) has lost the lock, and another node may hold it already, so the
/// client-side connection state alone is not enough (found by the fault simulation, seed 103).
/// </summary>
public sealed class AdvisoryLock : IAsyncDisposable
{
    /// <summary>How often an idle holder checks its session; a lost lock is noticed within about this long.</summary>
    public static TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(2);

    private readonly NpgsqlConnection connection;
    private readonly SemaphoreSlim use = new(1, 1); // the heartbeat, Confirm and the unlock share the connection
    private readonly CancellationTokenSource stop = new();
    private readonly Task heartbeat;
    private volatile bool lost;

    private AdvisoryLock(NpgsqlConnection connection)
    {
        this.connection = connection;
        heartbeat = Task.Run(Heartbeat);
    }

    /// <summary>True while the session that holds the lock is connected and, at its last check, alive on the server.</summary>
    public bool IsHeld => !lost && connection.FullState == System.Data.ConnectionState.Open;

    /// <summary>Asks the server now: false (and <see cref="IsHeld"/> false from then on) when the session is gone.</summary>
    public async Task<bool> Confirm(CancellationToken ct)
    {
        if (!IsHeld) return false;
        await use.WaitAsync(ct);
        try
        {
            await connection.ExecuteScalarAsync<int>(new CommandDefinition("select 1", cancellationToken: ct));
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or IOException) { lost = true; }
        finally { use.Release(); }
        return IsHeld;
    }

    private async Task Heartbeat()
    {
        try
        {
            while (!stop.IsCancellationRequested && IsHeld)
            {
                await Task.Delay(HeartbeatInterval, stop.Token);
                await Confirm(stop.Token);
            }
        }
        catch (OperationCanceledException) { }
    }

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
        stop.Cancel();
        await heartbeat;
        await use.WaitAsync();
        try
        {
            if (IsHeld) await connection.ExecuteAsync("select pg_advisory_unlock_all()");
        }
        catch (NpgsqlException) { /* the session is gone, and its locks with it */ }
        finally { use.Release(); }
        await connection.DisposeAsync();
        stop.Dispose();
    }
}
