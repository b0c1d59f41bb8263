using Dapper;
using Microsoft.Extensions.Logging;
using Npgsql;
using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Application.Time;

namespace Steller.Infrastructure.Jobs;

/// <summary>
/// Where an expiry job finds its open items and what it sends to close one: the read model <paramref name="Table"/>
/// (columns stream_id, <paramref name="IdColumn"/>, expires_at), and <paramref name="Release"/>, which gives for a
/// stream id and an item id the stream to write to and the release command (null for a stream of another shape).
/// </summary>
public sealed record ExpiryShape<TCommand>(string Table, string IdColumn, string Actor, string Items,
    Func<string, string, (string Stream, TCommand Command)?> Release);

/// <summary>
/// Releases open items (wallet holds, stock reservations) whose expiry has passed. Candidates come from a read model;
/// each release is a command to the item's aggregate, so the aggregate decides: an item closed in the meantime stays
/// closed, one released twice stays released once.
/// </summary>
public abstract class OpenItemExpiry<TState, TCommand, TEvent>(
    NpgsqlDataSource db, AggregateCommands<TState, TCommand, TEvent> commands, IClock clock, ILogger logger, ExpiryShape<TCommand> shape)
    : IExpiry where TEvent : class
{
    public const int PassSize = 500;

    /// <summary>Releases every expired item the read model knows of; returns how many it released now.</summary>
    public async Task<int> ReleaseExpired(CancellationToken ct)
    {
        var released = 0;
        while (true)
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            var due = (await conn.QueryAsync<(string Stream, string ItemId)>(new CommandDefinition(
                $"select stream_id, {shape.IdColumn} from read.{shape.Table} where expires_at <= @now order by expires_at limit {PassSize}",
                new { now = clock.UtcNow.UtcDateTime }, cancellationToken: ct))).ToList();
            var changed = 0;
            foreach (var (stream, itemId) in due)
            {
                if (shape.Release(stream, itemId) is not var (target, command)) continue;
                var metadata = new EventMetadata($"expiry-{itemId}", $"expiry-{itemId}", Guid.NewGuid(), shape.Actor, clock.UtcNow);
                var outcome = await commands.Execute(target, command, metadata, ct: ct);
                if (outcome.Succeeded && !outcome.WasRepeat) changed++;
            }
            released += changed;
            // Rows the projection has not caught up on yet would come back; stop when a pass changes nothing.
            if (due.Count < PassSize || changed == 0) break;
        }
        if (released > 0) logger.LogInformation("Released {Count} expired {Items}", released, shape.Items);
        return released;
    }
}

/// <summary>An expiry pass, as its loop runs it (Projections' ExpiryLoops: on one node at a time).</summary>
public interface IExpiry
{
    Task<int> ReleaseExpired(CancellationToken ct);
}
