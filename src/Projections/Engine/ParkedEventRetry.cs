using Dapper;
using Steller.Application.EventStore;

namespace Steller.Projections.Engine;

/// <summary>What `steller projections retry` did: how many parked events applied (and were removed), which are still parked.</summary>
public sealed record ParkedRetryResult(int Applied, IReadOnlyList<ParkedEvent> StillParked);

/// <summary>
/// Applies parked events again (after the fix that lets them apply is deployed), oldest first, each in its own transaction
/// with the removal of its row, while holding the projection's checkpoint row so no live batch runs beside it. The event
/// is applied to the read model as it stands now; its place in the log is not replayed (a rebuild does that). A parked
/// row of a generation that is no longer active is left to the rebuild's swap, which removes it.
/// </summary>
public sealed class ParkedEventRetry(IEventStore store, ProjectionStore bookkeeping, IEnumerable<IProjection> projections)
{
    public async Task<ParkedRetryResult> Retry(string? projectionName, CancellationToken ct)
    {
        var applied = 0;
        var still = new List<ParkedEvent>();
        foreach (var parked in await bookkeeping.Parked(projectionName, ct))
        {
            var projection = projections.FirstOrDefault(p => p.Name == parked.Projection);
            var active = await bookkeeping.GetActive(parked.Projection, ct);
            if (projection is null || active is null || active.Generation != parked.Generation)
            {
                still.Add(parked);
                continue;
            }
            var slice = await store.ReadStream(parked.StreamId, ReadDirection.Forwards, new StreamRevision(parked.Revision), 1, ct);
            var e = slice.Events.FirstOrDefault(x => x.EventId == parked.EventId);
            try
            {
                if (e is null) throw new InvalidOperationException($"{parked.StreamId}@{parked.Revision} is not event {parked.EventId} any more.");
                await using var conn = await bookkeeping.DataSource.OpenConnectionAsync(ct);
                await using var tx = await conn.BeginTransactionAsync(ct);
                await conn.ExecuteAsync(new CommandDefinition("""
                    select 1 from steller.projections p
                      join steller.projection_checkpoints c on c.name = p.name and c.generation = @generation
                     where p.name = @name for update of c for share of p
                    """, new { name = parked.Projection, generation = parked.Generation }, tx, cancellationToken: ct));
                await projection.Apply([e], new ProjectionContext(conn, tx, ProjectionSchemas.ForGeneration(parked.Generation), ct));
                await conn.ExecuteAsync(new CommandDefinition(
                    "delete from steller.projection_parked where projection = @projection and event_id = @eventId",
                    new { projection = parked.Projection, eventId = parked.EventId }, tx, cancellationToken: ct));
                await tx.CommitAsync(ct);
                applied++;
            }
            catch (Exception error) when (error is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                await using var conn = await bookkeeping.DataSource.OpenConnectionAsync(ct);
                await conn.ExecuteAsync(new CommandDefinition("""
                    update steller.projection_parked set error = @error, attempts = attempts + 1, retried_at = now()
                     where projection = @projection and event_id = @eventId
                    """, new { projection = parked.Projection, eventId = parked.EventId, error = ProjectionStore.Describe(error) },
                    cancellationToken: ct));
                still.Add(parked with { Error = ProjectionStore.Describe(error), Attempts = parked.Attempts + 1 });
            }
        }
        return new ParkedRetryResult(applied, still);
    }
}
