using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Steller.Application.EventStore;
using Steller.Infrastructure.Configuration;
using Steller.Infrastructure.Postgres;
using Steller.Projections.Engine;
using Steller.Projections.Streams;

namespace Steller.Bench;

/// <summary>Steller's PostgresEventStore and its projection engine (ProjectionRebuilder + StreamStatsProjection).</summary>
public sealed class StellerStore : IStoreUnderTest
{
    private readonly NpgsqlDataSource dataSource;
    private readonly LogNotifications notifications;
    private readonly PostgresEventStore store;
    private readonly ProjectionRebuilder rebuilder;
    private readonly StreamStatsProjection projection = new();

    private StellerStore(NpgsqlDataSource dataSource, int rebuildBatchSize)
    {
        this.dataSource = dataSource;
        notifications = new LogNotifications(dataSource, NullLogger<LogNotifications>.Instance);
        store = new PostgresEventStore(dataSource, notifications);
        rebuilder = new ProjectionRebuilder(store, new ProjectionStore(dataSource),
            new ProjectionSettings(Enabled: true, BatchSize: 500, RebuildBatchSize: rebuildBatchSize),
            NullLogger<ProjectionRebuilder>.Instance);
    }

    public string Name => "Steller";

    public static async Task<StellerStore> Create(string connectionString, int rebuildBatchSize)
    {
        // The connection a Steller node uses (no DISCARD ALL on a returned connection, automatic preparation); Marten keeps
        // Npgsql's defaults, as it is used out of the box. Before 2026-12-03 this side ran on Npgsql's defaults too, and
        // DISCARD ALL threw away the session's plans on every append.
        var dataSource = NpgsqlDataSource.Create(Steller.Infrastructure.StorageRegistration.PooledConnectionString(connectionString));
        await new Migrator(dataSource, NullLogger<Migrator>.Instance).Migrate();
        return new StellerStore(dataSource, rebuildBatchSize);
    }

    public Task Append(string stream, long n, int count) =>
        store.Append(stream, ExpectedRevision.Any, Payloads.StellerEvents(n, count, Guid.CreateVersion7()));

    public async Task AppendMany(IReadOnlyList<(string Stream, long N, int Count)> appends)
    {
        // AppendWithin: Steller's way to append inside a caller's transaction (one commit for all these streams).
        await using var conn = await dataSource.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        foreach (var (stream, n, count) in appends)
            await store.AppendWithin(conn, tx, stream, ExpectedRevision.Any, Payloads.StellerEvents(n, count, Guid.CreateVersion7()));
        await tx.CommitAsync();
    }

    public Task<long> ReadAll(int pageSize, long maxEvents) => StellerReads.ReadAll(store, pageSize, maxEvents);

    public async Task Rebuild() => await rebuilder.Rebuild(projection, progress: null, CancellationToken.None);

    public Task<(long Streams, long Events)> ReadModelTotals() => StellerReads.ReadModelTotals(dataSource);

    private async Task Execute(string sql)
    {
        await using var cmd = dataSource.CreateCommand(sql);
        await cmd.ExecuteNonQueryAsync();
    }

    public async Task<long> EventCount()
    {
        await using var cmd = dataSource.CreateCommand("select count(*) from es.events");
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    public async Task WarmUp()
    {
        for (var i = 0; i < 20; i++) await Append($"warmup-{i % 4}", i, 1 + i % 3);
        await ReadAll(100, long.MaxValue);
        await Rebuild();
    }

    private bool disposed;

    public async ValueTask DisposeAsync()
    {
        if (disposed) return;
        disposed = true;
        await notifications.DisposeAsync();
        await dataSource.DisposeAsync();
    }
}
