using Dapper;
using Npgsql;
using Steller.Application.EventStore;
using Steller.Infrastructure.Postgres;

namespace Steller.Projections.Engine;

/// <summary>
/// Applies one batch and moves the checkpoint in the same transaction. It first locks the checkpoint row and
/// checks it is where this runner left it, so two runners of one projection can never both apply a batch.
/// A process manager is different: it calls vendors and runs commands, which must never happen inside a transaction
/// (an open write transaction holds back the gap-safe log for every reader). Its batch is handled with no transaction
/// open, then the checkpoint moves in a short transaction of its own: at least once, which its idempotence makes safe.
/// </summary>
public static class BatchApplier
{
    public enum Outcome { Applied, GenerationRetired }

    public static Task<Outcome> Apply(NpgsqlDataSource dataSource, IProjection projection, int generation, bool mustBeActive,
        LogPosition from, IReadOnlyList<RecordedEvent> batch, CancellationToken ct) =>
        Apply(dataSource, projection, generation, mustBeActive, from, batch, batch[^1].Position, batch.Count, ct);

    /// <summary>
    /// Applies <paramref name="batch"/> (possibly empty) and moves the checkpoint from <paramref name="from"/> to
    /// <paramref name="to"/>: everything between them that is not in the batch holds no event this projection reads.
    /// <paramref name="covered"/> counts every event between the two positions.
    /// </summary>
    public static async Task<Outcome> Apply(NpgsqlDataSource dataSource, IProjection projection, int generation, bool mustBeActive,
        LogPosition from, IReadOnlyList<RecordedEvent> batch, LogPosition to, long covered, CancellationToken ct)
    {
        if (projection is ProcessManagerSubscription manager)
            return await Handle(dataSource, manager, generation, mustBeActive, from, batch, to, covered, ct);

        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);

        var (at, xid) = await Checkpoint(conn, tx, projection, generation, mustBeActive, from, ct);
        if (!at) return Outcome.GenerationRetired;
        // A batch that runs long (catching up, a rebuild) stops holding readers of the log back: it never appends.
        using var announced = NoAppendDataSource.AnnounceIfLong(dataSource, xid);

        var relevant = projection.EventTypes is null ? batch : batch.Where(e => projection.EventTypes.Contains(e.Type)).ToList();
        if (relevant.Count > 0)
            await projection.Apply(relevant, new ProjectionContext(conn, tx, ProjectionSchemas.ForGeneration(generation), ct));
        await ProjectionStore.SaveCheckpoint(conn, tx, projection.Name, generation, to, covered,
            batch.Count > 0 ? batch[^1].Metadata.RecordedAt : null, ct);
        await tx.CommitAsync(ct);
        ProjectionMetrics.EventsApplied.WithLabels(projection.Name).Inc(covered);
        return Outcome.Applied;
    }

    /// <summary>
    /// Hands a process manager the events of <paramref name="batch"/> it reads, and moves no checkpoint: the worker moves it
    /// later, coalesced (<see cref="ProjectionWorker.IdleCheckpointInterval"/>).
    /// </summary>
    public static async Task HandleOnly(ProcessManagerSubscription manager, IReadOnlyList<RecordedEvent> batch, CancellationToken ct)
    {
        var relevant = batch.Where(e => manager.Manager.EventTypes.Contains(e.Type)).ToList();
        if (relevant.Count > 0) await manager.Manager.Handle(relevant, ct);
    }

    /// <summary>
    /// A process manager's batch: handle the events with no transaction and no connection held, then move the checkpoint
    /// from <paramref name="from"/> in one statement that checks and locks it as a batch transaction does (a retired
    /// generation or a checkpoint another runner moved is found there, and only then read again to say which).
    /// A crash in between handles the batch again (idempotent commands); leadership (the advisory lock) keeps it to
    /// one runner across nodes.
    /// </summary>
    private static async Task<Outcome> Handle(NpgsqlDataSource dataSource, ProcessManagerSubscription manager, int generation,
        bool mustBeActive, LogPosition from, IReadOnlyList<RecordedEvent> batch, LogPosition to, long covered, CancellationToken ct)
    {
        await HandleOnly(manager, batch, ct);

        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var moved = await conn.ExecuteAsync(new CommandDefinition("""
            with at as (
                select c.name, c.generation
                  from steller.projection_checkpoints c
                  join steller.projections p on p.name = c.name
                 where c.name = @name and c.generation = @generation and (not @mustBeActive or p.active_generation = @generation)
                   and c.commit_position = @fromCommit and c.prepare_position = @fromPrepare
                   for update of c for share of p)
            update steller.projection_checkpoints c
               set commit_position = @commit, prepare_position = @prepare, events_applied = events_applied + @applied,
                   last_event_at = coalesce(@lastEventAt, last_event_at), updated_at = now()
              from at
             where c.name = at.name and c.generation = at.generation
            """, new
        {
            name = manager.Name, generation, mustBeActive, fromCommit = (long)from.Commit, fromPrepare = (long)from.Prepare,
            commit = (long)to.Commit, prepare = (long)to.Prepare, applied = covered,
            lastEventAt = batch.Count > 0 ? batch[^1].Metadata.RecordedAt.UtcDateTime : (DateTime?)null,
        }, cancellationToken: ct));
        // Not moved: retired (false) or moved by another runner (throws).
        if (moved == 0 && !await CheckpointIsAt(conn, null, manager, generation, mustBeActive, from, ct)) return Outcome.GenerationRetired;
        if (moved == 0)
            throw new ProjectionConflictException($"Checkpoint of {manager.Name} v{generation} did not move from {from}: another runner is applying it.");
        ProjectionMetrics.EventsApplied.WithLabels(manager.Name).Inc(covered);
        return Outcome.Applied;
    }

    /// <summary>
    /// Parks <paramref name="poison"/> (an event the projection cannot apply) in steller.projection_parked and moves the
    /// checkpoint from <paramref name="from"/> past it, in one transaction: the event is either parked or still ahead.
    /// </summary>
    public static async Task<Outcome> Park(NpgsqlDataSource dataSource, IProjection projection, int generation, bool mustBeActive,
        LogPosition from, RecordedEvent poison, Exception error, long covered, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        if (!await CheckpointIsAt(conn, tx, projection, generation, mustBeActive, from, ct)) return Outcome.GenerationRetired;
        await ProjectionStore.InsertParked(conn, tx, projection.Name, generation, poison, error, ct);
        await ProjectionStore.SaveCheckpoint(conn, tx, projection.Name, generation, poison.Position, covered, poison.Metadata.RecordedAt, ct);
        await tx.CommitAsync(ct);
        ProjectionMetrics.EventsApplied.WithLabels(projection.Name).Inc(covered);
        return Outcome.Applied;
    }

    /// <summary>
    /// False when <paramref name="generation"/> is gone (or no longer active when it must be); throws when the checkpoint is
    /// not at <paramref name="from"/>. Inside a transaction it locks the checkpoint row and shares the projection row: a
    /// view swap (FOR UPDATE) waits for the batch, and the batch waits for a swap.
    /// </summary>
    private static async Task<bool> CheckpointIsAt(NpgsqlConnection conn, NpgsqlTransaction? tx, IProjection projection, int generation,
        bool mustBeActive, LogPosition from, CancellationToken ct) =>
        (await Checkpoint(conn, tx, projection, generation, mustBeActive, from, ct)).At;

    /// <summary><see cref="CheckpointIsAt"/>, and the transaction's id (0 outside a transaction).</summary>
    private static async Task<(bool At, ulong Xid)> Checkpoint(NpgsqlConnection conn, NpgsqlTransaction? tx, IProjection projection,
        int generation, bool mustBeActive, LogPosition from, CancellationToken ct)
    {
        var row = await conn.QuerySingleOrDefaultAsync<CheckpointRow>(new CommandDefinition($"""
            select p.active_generation as Active, c.commit_position as Commit, c.prepare_position as Prepare,
                   {(tx is null ? "'0'" : "pg_current_xact_id()::text")} as Xid
              from steller.projections p
              join steller.projection_checkpoints c on c.name = p.name and c.generation = @generation
             where p.name = @name
            {(tx is null ? "" : "for update of c for share of p")}
            """, new { name = projection.Name, generation }, tx, cancellationToken: ct));
        if (row is null || (mustBeActive && row.Active != generation)) return (false, 0);
        var stored = new LogPosition((ulong)row.Commit, (ulong)row.Prepare);
        return stored == from
            ? (true, ulong.Parse(row.Xid))
            : throw new ProjectionConflictException(
                $"Checkpoint of {projection.Name} v{generation} is at {stored}, expected {from}: another runner is applying it.");
    }
}

internal sealed record CheckpointRow(int Active, long Commit, long Prepare, string Xid);

public sealed class ProjectionConflictException(string message) : Exception(message);
