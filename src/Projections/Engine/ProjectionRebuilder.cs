using System.Diagnostics;
using Dapper;
using Microsoft.Extensions.Logging;
using Npgsql;
using Steller.Application.EventStore;
using Steller.Infrastructure.Configuration;

namespace Steller.Projections.Engine;

/// <summary>Progress of a rebuild, reported after each batch.</summary>
public sealed record RebuildProgress(string Projection, int Generation, long Applied, long? Total, double EventsPerSecond, TimeSpan? Eta);

public sealed record RebuildResult(string Projection, int OldGeneration, int NewGeneration, long Events, TimeSpan Elapsed);

/// <summary>
/// Side-by-side rebuild: builds generation N+1 from position zero in big batches while generation N keeps
/// serving (and the live runner keeps updating it), catches up to the tail, then in one transaction points
/// the read views at N+1 and drops N. The live runner notices the new generation at its next batch and
/// continues from the rebuild's checkpoint.
/// </summary>
public sealed class ProjectionRebuilder(IEventStore store, ProjectionStore bookkeeping, ProjectionSettings settings, ILogger<ProjectionRebuilder> logger)
{
    public async Task<RebuildResult> Rebuild(IProjection projection, IProgress<RebuildProgress>? progress, CancellationToken ct)
    {
        var dataSource = bookkeeping.DataSource;
        await using var rebuildLock = await AdvisoryLock.TryAcquire(dataSource, "rebuild", projection.Name, ct)
            ?? throw new InvalidOperationException($"A rebuild of projection '{projection.Name}' is already running.");

        var active = await bookkeeping.EnsureRegistered(projection, ct);
        var next = active.Generation + 1;
        await using (var conn = await dataSource.OpenConnectionAsync(ct))
        await using (var tx = await conn.BeginTransactionAsync(ct))
        {
            await bookkeeping.CreateGeneration(conn, tx, projection, next, ct);
            await tx.CommitAsync(ct);
        }
        logger.LogInformation("Rebuilding projection {Projection}: generation {Old} -> {New}", projection.Name, active.Generation, next);

        long? total = store is IEventLogStatistics stats ? await stats.CountAfter(LogPosition.Start, ct) : null;
        var clock = Stopwatch.StartNew();
        var position = LogPosition.Start;
        long applied = 0;
        while (true)
        {
            var page = await store.ReadAll(position, settings.RebuildBatchSize, ct);
            if (page.Count == 0) break;
            try { await BatchApplier.Apply(dataSource, projection, next, mustBeActive: false, position, page, ct); }
            catch (Exception e) when (PoisonEvents.MayBePoison(e, ct))
            {
                await PoisonEvents.ApplyOneByOne(dataSource, projection, next, mustBeActive: false, position, page, 0, e, logger, ct);
            }
            position = page[^1].Position;
            applied += page.Count;
            if (total < applied) total = applied; // writers kept appending
            var rate = applied / Math.Max(clock.Elapsed.TotalSeconds, 1e-6);
            progress?.Report(new RebuildProgress(projection.Name, next, applied, total, rate,
                total is { } t ? TimeSpan.FromSeconds((t - applied) / Math.Max(rate, 1e-6)) : null));
            if (page.Count < settings.RebuildBatchSize) break; // at the tail as of this read
        }

        await Swap(dataSource, projection, active.Generation, next, ct);
        logger.LogInformation("Projection {Projection} now serves generation {New} ({Events} events in {Seconds:0.0} s)",
            projection.Name, next, applied, clock.Elapsed.TotalSeconds);
        return new RebuildResult(projection.Name, active.Generation, next, applied, clock.Elapsed);
    }

    /// <summary>
    /// The swap takes the view, the checkpoints and the old tables in one transaction while the live runner may still be
    /// writing the old generation: PostgreSQL can pick the swap as a deadlock victim. The swap is all or nothing, so it
    /// is simply tried again.
    /// </summary>
    private static async Task Swap(NpgsqlDataSource dataSource, IProjection projection, int old, int next, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await SwapOnce(dataSource, projection, old, next, ct);
                return;
            }
            catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure
                                              && attempt < 5)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50 * attempt * (1 + Random.Shared.NextDouble())), ct);
            }
        }
    }

    private static async Task SwapOnce(NpgsqlDataSource dataSource, IProjection projection, int old, int next, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await conn.ExecuteAsync("select 1 from steller.projections where name = @name for update", new { name = projection.Name }, tx);
        await ProjectionStore.PointViews(conn, tx, projection, next);
        await conn.ExecuteAsync("""
            update steller.projections set active_generation = @next, code_version = @version where name = @name;
            delete from steller.projection_checkpoints where name = @name and generation = @old;
            delete from steller.projection_faults where name = @name;
            delete from steller.projection_parked where projection = @name and generation = @old; -- the rebuild met them again
            """, new { name = projection.Name, next, old, version = projection.Version }, tx);
        var oldSchema = ProjectionSchemas.ForGeneration(old);
        foreach (var table in projection.Tables)
            await conn.ExecuteAsync($"drop table if exists {oldSchema}.{table}", transaction: tx);
        // Another projection may still live in the old schema; drop it only when empty.
        if (await conn.ExecuteScalarAsync<long>(
                "select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = @s", new { s = oldSchema }, tx) == 0)
            await conn.ExecuteAsync($"drop schema if exists {oldSchema}", transaction: tx);
        await tx.CommitAsync(ct);
    }
}
