using Microsoft.Extensions.Logging;
using Npgsql;
using Steller.Application.EventStore;

namespace Steller.Projections.Engine;

/// <summary>
/// The failure policy, in one place for the live worker and the rebuilder: a batch that failed for a reason other than
/// the moment is applied again one event at a time, so the events that apply are kept and the event that fails alone (the
/// poison) is found. It is then parked in steller.projection_parked and the projection goes on
/// (<see cref="OnPoisonEvent.Park"/>), or the projection stops right before it and alerts (<see cref="OnPoisonEvent.Stop"/>).
/// </summary>
public static class PoisonEvents
{
    /// <summary>
    /// Whether a failure may be the event's fault rather than the moment's. From PostgreSQL only data exceptions (class
    /// 22: bad text, numbers out of range) and integrity violations (class 23) can be; any other database error (a lost
    /// connection, a read-only standby, a deadlock, a missing table) is the database's and is retried from the
    /// checkpoint with backoff, as are cancellation, a lost leadership race and timeouts. Any other exception (the
    /// projection's own code: an unreadable event, an overflow) may be the event's.
    /// </summary>
    public static bool MayBePoison(Exception e, CancellationToken ct) => e switch
    {
        OperationCanceledException when ct.IsCancellationRequested => false,
        ProjectionConflictException or PoisonEventException or TimeoutException => false,
        PostgresException pg => pg.SqlState.StartsWith("22", StringComparison.Ordinal) || pg.SqlState.StartsWith("23", StringComparison.Ordinal),
        NpgsqlException => false,
        _ => true,
    };

    /// <summary>
    /// Applies <paramref name="batch"/> one event at a time from <paramref name="from"/> (the stored checkpoint; <paramref
    /// name="carried"/> events before the batch lie between it and the batch). <paramref name="batchError"/> is why the
    /// whole batch failed.
    /// </summary>
    public static async Task<BatchApplier.Outcome> ApplyOneByOne(NpgsqlDataSource dataSource, IProjection projection, int generation,
        bool mustBeActive, LogPosition from, IReadOnlyList<RecordedEvent> batch, long carried, Exception batchError, ILogger logger,
        CancellationToken ct)
    {
        if (batch.Count > 1)
            logger.LogWarning("Projection {Projection}: a batch of {Count} events failed ({Error}); applying it event by event to find the "
                + "event that fails", projection.Name, batch.Count, batchError.Message);
        var at = from;
        var last = -1; // index of the last event the checkpoint covers
        for (var i = 0; i < batch.Count; i++)
        {
            var e = batch[i];
            if (projection.EventTypes is not null && !projection.EventTypes.Contains(e.Type)) continue;
            var covered = carried + (i - last);
            BatchApplier.Outcome outcome;
            try { outcome = await BatchApplier.Apply(dataSource, projection, generation, mustBeActive, at, [e], e.Position, covered, ct); }
            catch (Exception error) when (MayBePoison(error, ct))
            {
                outcome = await Poisoned(dataSource, projection, generation, mustBeActive, at, e, error, covered, logger, ct);
            }
            if (outcome == BatchApplier.Outcome.GenerationRetired) return outcome;
            carried = 0;
            at = e.Position;
            last = i;
        }
        if (last == batch.Count - 1) return BatchApplier.Outcome.Applied;
        return await BatchApplier.Apply(dataSource, projection, generation, mustBeActive, at, [], batch[^1].Position,
            carried + (batch.Count - 1 - last), ct);
    }

    /// <summary>Where an event is, for an operator: type, id, stream and revision, log position.</summary>
    public static string Describe(RecordedEvent e) =>
        $"{e.Type} {e.EventId} ({e.StreamId}@{e.Revision.Value}, log position {e.Position})";

    private static async Task<BatchApplier.Outcome> Poisoned(NpgsqlDataSource dataSource, IProjection projection, int generation,
        bool mustBeActive, LogPosition from, RecordedEvent poison, Exception error, long covered, ILogger logger, CancellationToken ct)
    {
        if (projection.OnPoison == OnPoisonEvent.Stop)
            throw new PoisonEventException(
                $"Projection {projection.Name} stopped at {Describe(poison)}: {error.GetType().Name}: {error.Message}", error);
        var outcome = await BatchApplier.Park(dataSource, projection, generation, mustBeActive, from, poison, error, covered, ct);
        if (outcome == BatchApplier.Outcome.Applied)
        {
            ProjectionMetrics.Parked.WithLabels(projection.Name).Inc();
            logger.LogError(error, "Projection {Projection} cannot apply {Event}; parked it in steller.projection_parked and goes on "
                + "(`steller projections retry --projection {Projection}` applies it again)", projection.Name, Describe(poison), projection.Name);
        }
        return outcome;
    }
}

/// <summary>A projection whose policy is <see cref="OnPoisonEvent.Stop"/> met an event it cannot apply: it stops before it.</summary>
public sealed class PoisonEventException(string message, Exception inner) : Exception(message, inner);
