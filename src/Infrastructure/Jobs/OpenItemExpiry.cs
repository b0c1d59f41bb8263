using Dapper;
using Microsoft.Extensions.Logging;
using Npgsql;
using Steller.Application.EventStore;
using Steller.Application.Time;

namespace Steller.Infrastructure.Jobs;

/// <summary>
/// Releases open items (wallet holds, stock reservations) whose expiry has passed. Candidates come from the read model
/// <paramref name="table"/> (columns stream_id, <paramref name="idColumn"/>, expires_at); each release is a command to
/// the item's aggregate, so the aggregate decides: an item closed in the meantime stays closed, one released twice
/// stays released once.
/// </summary>
public abstract class OpenItemExpiry(NpgsqlDataSource db, IClock clock, ILogger logger, string table, string idColumn, string actor, string items)
{
    public const int PassSize = 500;

    /// <summary>
    /// Releases item <paramref name="itemId"/> of stream <paramref name="streamId"/>; true when this call released it (not
    /// when it was closed already, or the stream is of another shape).
    /// </summary>
    protected abstract Task<bool> Release(string streamId, string itemId, EventMetadata metadata, CancellationToken ct);

    /// <summary>Releases every expired item the read model knows of; returns how many it released now.</summary>
    public async Task<int> ReleaseExpired(CancellationToken ct)
    {
        var released = 0;
        while (true)
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            var due = (await conn.QueryAsync<(string Stream, string ItemId)>(new CommandDefinition(
                $"select stream_id, {idColumn} from read.{table} where expires_at <= @now order by expires_at limit {PassSize}",
                new { now = clock.UtcNow.UtcDateTime }, cancellationToken: ct))).ToList();
            var changed = 0;
            foreach (var (stream, itemId) in due)
            {
                var metadata = new EventMetadata($"expiry-{itemId}", $"expiry-{itemId}", Guid.NewGuid(), actor, clock.UtcNow);
                if (await Release(stream, itemId, metadata, ct)) changed++;
            }
            released += changed;
            // Rows the projection has not caught up on yet would come back; stop when a pass changes nothing.
            if (due.Count < PassSize || changed == 0) break;
        }
        if (released > 0) logger.LogInformation("Released {Count} expired {Items}", released, items);
        return released;
    }
}
