using Dapper;
using Npgsql;
using Steller.Application.EventStore;

namespace Steller.Projections.Engine;

/// <summary>SQL for the engine's bookkeeping: generations, checkpoints, faults, view swaps (schema "steller").</summary>
public sealed class ProjectionStore(NpgsqlDataSource dataSource)
{
    public NpgsqlDataSource DataSource { get; } = dataSource;

    public sealed record Active(int Generation, int CodeVersion);

    internal sealed record CheckpointValues(long Commit, long Prepare, long Applied);

    public sealed record Checkpoint(LogPosition Position, long EventsApplied);

    /// <summary>First sight of a projection: creates generation 1 (tables, views, checkpoint). Idempotent.</summary>
    public async Task<Active> EnsureRegistered(IProjection projection, CancellationToken ct)
    {
        await using var conn = await DataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        // Two nodes starting together must not both create generation 1.
        await conn.ExecuteAsync("select pg_advisory_xact_lock(hashtext('steller.projection.register'), hashtext(@n))",
            new { n = projection.Name }, tx);
        var active = await conn.QuerySingleOrDefaultAsync<Active>(
            "select active_generation as Generation, code_version as CodeVersion from steller.projections where name = @n",
            new { n = projection.Name }, tx);
        if (active is null)
        {
            await CreateGeneration(conn, tx, projection, 1, ct);
            await PointViews(conn, tx, projection, 1);
            await conn.ExecuteAsync("insert into steller.projections (name, active_generation, code_version) values (@n, 1, @v)",
                new { n = projection.Name, v = projection.Version }, tx);
            active = new Active(1, projection.Version);
        }
        // A database whose views were made before their comments (or with older wording) gets the current ones; not while a
        // rebuild to another shape is pending (the views still show the old columns).
        else if (active.CodeVersion == projection.Version) await Describe(conn, tx, projection);
        await tx.CommitAsync(ct);
        return active;
    }

    public async Task<Active?> GetActive(string name, CancellationToken ct)
    {
        await using var conn = await DataSource.OpenConnectionAsync(ct);
        return await conn.QuerySingleOrDefaultAsync<Active>(new CommandDefinition(
            "select active_generation as Generation, code_version as CodeVersion from steller.projections where name = @name",
            new { name }, cancellationToken: ct));
    }

    /// <summary>Drops any leftover of <paramref name="generation"/>, then creates its schema, tables and a zero checkpoint.</summary>
    public async Task CreateGeneration(NpgsqlConnection conn, NpgsqlTransaction tx, IProjection projection, int generation, CancellationToken ct)
    {
        var schema = ProjectionSchemas.ForGeneration(generation);
        // "create schema if not exists" is not safe against itself: projections registering at the same moment (every
        // projection on a fresh database) would fail with a duplicate pg_namespace key. One at a time per schema.
        await conn.ExecuteAsync("select pg_advisory_xact_lock(hashtext('steller.projection.schema'), hashtext(@schema))", new { schema }, tx);
        await conn.ExecuteAsync($"create schema if not exists {schema}", transaction: tx);
        foreach (var table in projection.Tables)
            await conn.ExecuteAsync($"drop table if exists {schema}.{table} cascade", transaction: tx);
        var ddl = projection.CreateTablesSql(schema);
        if (!string.IsNullOrWhiteSpace(ddl)) await conn.ExecuteAsync(ddl, transaction: tx); // process managers own no tables
        await conn.ExecuteAsync("""
            delete from steller.projection_checkpoints where name = @n and generation = @g;
            insert into steller.projection_checkpoints (name, generation) values (@n, @g);
            """, new { n = projection.Name, g = generation }, tx);
    }

    /// <summary>Repoints read.&lt;table&gt; at generation <paramref name="generation"/>. Atomic inside the caller's transaction.</summary>
    public static async Task PointViews(NpgsqlConnection conn, NpgsqlTransaction tx, IProjection projection, int generation)
    {
        var schema = ProjectionSchemas.ForGeneration(generation);
        await conn.ExecuteAsync($"create schema if not exists {ProjectionSchemas.Views}", transaction: tx);
        foreach (var table in projection.Tables)
            await conn.ExecuteAsync(
                $"drop view if exists {ProjectionSchemas.Views}.{table}; create view {ProjectionSchemas.Views}.{table} as select * from {schema}.{table};",
                transaction: tx);
        await Describe(conn, tx, projection);
    }

    /// <summary>
    /// COMMENT ON the projection's views and their columns (<see cref="IProjection.Docs"/>): dropping a view drops its comments,
    /// so they are written again with every (re)pointing, in the same transaction.
    /// </summary>
    public static async Task Describe(NpgsqlConnection conn, NpgsqlTransaction tx, IProjection projection)
    {
        var sql = string.Concat(projection.Docs.Where(d => projection.Tables.Contains(d.View)).Select(d => d.CommentSql()));
        if (sql.Length > 0) await conn.ExecuteAsync(sql, transaction: tx);
    }

    public static async Task<Checkpoint> LoadCheckpoint(NpgsqlConnection conn, NpgsqlTransaction? tx, string name, int generation, CancellationToken ct)
    {
        var row = await conn.QuerySingleOrDefaultAsync<CheckpointValues>(new CommandDefinition(
            "select commit_position as Commit, prepare_position as Prepare, events_applied as Applied from steller.projection_checkpoints where name = @name and generation = @generation",
            new { name, generation }, tx, cancellationToken: ct));
        return row is null
            ? throw new InvalidOperationException($"Projection {name} has no checkpoint for generation {generation}.")
            : new Checkpoint(new LogPosition((ulong)row.Commit, (ulong)row.Prepare), row.Applied);
    }

    public async Task<Checkpoint> LoadCheckpoint(string name, int generation, CancellationToken ct)
    {
        await using var conn = await DataSource.OpenConnectionAsync(ct);
        return await LoadCheckpoint(conn, null, name, generation, ct);
    }

    /// <summary>Moves the checkpoint inside the batch's transaction.</summary>
    public static Task SaveCheckpoint(NpgsqlConnection conn, NpgsqlTransaction tx, string name, int generation,
        LogPosition position, long applied, DateTimeOffset? lastEventAt, CancellationToken ct) =>
        conn.ExecuteAsync(new CommandDefinition("""
            update steller.projection_checkpoints
               set commit_position = @commit, prepare_position = @prepare, events_applied = events_applied + @applied,
                   last_event_at = coalesce(@lastEventAt, last_event_at), updated_at = now()
             where name = @name and generation = @generation
            """, new
        {
            name, generation, commit = (long)position.Commit, prepare = (long)position.Prepare, applied,
            lastEventAt = lastEventAt?.UtcDateTime,
        }, tx, cancellationToken: ct));

    public async Task RecordFault(string name, int generation, Exception error, int attempts, LogPosition position)
    {
        await using var conn = await DataSource.OpenConnectionAsync();
        await conn.ExecuteAsync("""
            insert into steller.projection_faults (name, generation, error, attempts, failed_at, position)
            values (@name, @generation, @error, @attempts, now(), @position)
            on conflict (name) do update set generation = excluded.generation, error = excluded.error,
                attempts = excluded.attempts, failed_at = excluded.failed_at, position = excluded.position
            """, new { name, generation, error = Describe(error), attempts, position = position.ToString() });
    }

    /// <summary>An error as stored and shown: its type and message, safe for PostgreSQL.</summary>
    public static string Describe(Exception error) => PgText.Clean($"{error.GetType().Name}: {error.Message}")!;

    /// <summary>Sets <paramref name="poison"/> aside for <paramref name="projection"/> (inside the caller's transaction).</summary>
    public static Task InsertParked(NpgsqlConnection conn, NpgsqlTransaction tx, string projection, int generation, RecordedEvent poison,
        Exception error, CancellationToken ct) =>
        conn.ExecuteAsync(new CommandDefinition("""
            insert into steller.projection_parked (projection, generation, commit_position, prepare_position, event_id, stream_id,
                                                   stream_revision, event_type, error)
            values (@projection, @generation, @commit, @prepare, @eventId, @stream, @revision, @type, @error)
            on conflict (projection, event_id) do update set error = excluded.error, attempts = projection_parked.attempts + 1
            """, new
        {
            projection, generation, commit = (long)poison.Position.Commit, prepare = (long)poison.Position.Prepare, eventId = poison.EventId,
            stream = poison.StreamId, revision = poison.Revision.Value, type = poison.Type, error = Describe(error),
        }, tx, cancellationToken: ct));

    /// <summary>Parked events, oldest first; only <paramref name="projection"/>'s when given.</summary>
    public async Task<IReadOnlyList<ParkedEvent>> Parked(string? projection, CancellationToken ct)
    {
        await using var conn = await DataSource.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<ParkedEvent>(new CommandDefinition("""
            select projection as Projection, generation as Generation, commit_position as Commit, prepare_position as Prepare, event_id as EventId,
                   stream_id as StreamId, stream_revision as Revision, event_type as Type, error as Error, attempts as Attempts,
                   parked_at as ParkedAt, retried_at as RetriedAt
              from steller.projection_parked
             where @projection::text is null or projection = @projection
             order by projection, commit_position, prepare_position
            """, new { projection }, cancellationToken: ct))).ToList();
    }

    /// <summary>How many events each projection has parked (projections with none are left out).</summary>
    public async Task<IReadOnlyDictionary<string, long>> ParkedCounts(CancellationToken ct)
    {
        await using var conn = await DataSource.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<(string Projection, long Count)>(new CommandDefinition(
                "select projection, count(*) from steller.projection_parked group by projection", cancellationToken: ct)))
            .ToDictionary(r => r.Projection, r => r.Count);
    }

    public async Task ClearFault(string name, CancellationToken ct)
    {
        await using var conn = await DataSource.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition("delete from steller.projection_faults where name = @name", new { name }, cancellationToken: ct));
    }

    public async Task<IReadOnlyList<string>> FaultedProjections(CancellationToken ct)
    {
        await using var conn = await DataSource.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<string>(new CommandDefinition("select name from steller.projection_faults order by name", cancellationToken: ct))).ToList();
    }

    /// <summary>Which of <paramref name="names"/> are not registered yet (no tables or views: a query on them is a 503).</summary>
    public async Task<IReadOnlyList<string>> Unregistered(IReadOnlyCollection<string> names, CancellationToken ct)
    {
        await using var conn = await DataSource.OpenConnectionAsync(ct);
        var registered = (await conn.QueryAsync<string>(new CommandDefinition(
            "select name from steller.projections where name = any(@names)", new { names = names.ToArray() }, cancellationToken: ct))).ToHashSet(StringComparer.Ordinal);
        return names.Where(n => !registered.Contains(n)).Order(StringComparer.Ordinal).ToList();
    }
}

/// <summary>A row of steller.projection_parked: an event a projection set aside because it could not apply it.</summary>
public sealed record ParkedEvent(string Projection, int Generation, long Commit, long Prepare, Guid EventId, string StreamId, long Revision, string Type,
    string Error, int Attempts, DateTime ParkedAt, DateTime? RetriedAt)
{
    public LogPosition Position => new((ulong)Commit, (ulong)Prepare);
}
