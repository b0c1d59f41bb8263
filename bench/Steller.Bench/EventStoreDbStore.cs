using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Steller.Application.EventStore;
using Steller.Infrastructure.Configuration;
using Steller.Infrastructure.EventStoreDb;
using Steller.Infrastructure.Postgres;
using Steller.Projections.Engine;
using Steller.Projections.Streams;

namespace Steller.Bench;

/// <summary>
/// Steller on EventStoreDB, as it runs with <c>EventStore:Backend EventStoreDB</c>: the events in EventStoreDB through
/// Steller's adapter (<see cref="EventStoreDbEventStore"/>), the rebuild's read model and checkpoints in PostgreSQL
/// (<see cref="ProjectionRebuilder"/> + <see cref="StreamStatsProjection"/>, as StellerStore does).
/// Every stream name gets the run's own prefix, and the adapter reads only streams with it (beside Steller's own
/// prefixes), so runs against one server neither collide nor read each other's events.
/// </summary>
public sealed class EventStoreDbStore : IStoreUnderTest
{
    /// <summary>The server to measure; <c>--esdb</c> wins over it.</summary>
    public const string Variable = "STELLER_ESDB_CONNECTION";

    private readonly EventStoreDbEventStore store;
    private readonly NpgsqlDataSource readModels;
    private readonly ProjectionRebuilder rebuilder;
    private readonly StreamStatsProjection projection = new();
    private long appended;

    private EventStoreDbStore(EventStoreDbEventStore store, NpgsqlDataSource readModels, int rebuildBatchSize, string runPrefix)
    {
        this.store = store;
        this.readModels = readModels;
        RunPrefix = runPrefix;
        rebuilder = new ProjectionRebuilder(store, new ProjectionStore(readModels),
            new ProjectionSettings(Enabled: true, BatchSize: 500, RebuildBatchSize: rebuildBatchSize),
            NullLogger<ProjectionRebuilder>.Instance);
    }

    public string Name => "ESDB";

    /// <summary>Prepended to every stream this store writes, e.g. <c>bench-20261202T1130-3f9a0c1e-</c>.</summary>
    public string RunPrefix { get; }

    /// <summary>The server, without its password.</summary>
    public string Server => store.Connection.ToString();

    /// <summary>A prefix no earlier run used: the time and 8 random hex digits.</summary>
    public static string NewRunPrefix() => $"bench-{DateTime.UtcNow:yyyyMMdd'T'HHmmss}-{Guid.NewGuid():N}"[..30] + "-";

    /// <param name="connection">The EventStoreDB connection string (esdb://...).</param>
    /// <param name="readModelConnectionString">A PostgreSQL database for the rebuild's read model; migrated here.</param>
    public static async Task<EventStoreDbStore> Create(string connection, string readModelConnectionString, int rebuildBatchSize,
        string? runPrefix = null)
    {
        runPrefix ??= NewRunPrefix();
        var store = new EventStoreDbEventStore(connection, new EventStoreDbOptions { StreamPrefixes = [runPrefix] });
        var readModels = NpgsqlDataSource.Create(readModelConnectionString);
        await new Migrator(readModels, NullLogger<Migrator>.Instance).Migrate();
        return new EventStoreDbStore(store, readModels, rebuildBatchSize, runPrefix);
    }

    public async Task Append(string stream, long n, int count)
    {
        await store.Append(RunPrefix + stream, ExpectedRevision.Any, Payloads.StellerEvents(n, count, Guid.CreateVersion7()));
        Interlocked.Add(ref appended, count);
    }

    /// <summary>EventStoreDB has no transaction across streams: one append per stream, one after the other.</summary>
    public async Task AppendMany(IReadOnlyList<(string Stream, long N, int Count)> appends)
    {
        foreach (var (stream, n, count) in appends) await Append(stream, n, count);
    }

    public Task<long> ReadAll(int pageSize, long maxEvents) => StellerReads.ReadAll(store, pageSize, maxEvents);

    public async Task Rebuild() => await rebuilder.Rebuild(projection, progress: null, CancellationToken.None);

    public Task<(long Streams, long Events)> ReadModelTotals() => StellerReads.ReadModelTotals(readModels);

    /// <summary>
    /// The events this store appended (and the server acknowledged). The log it reads holds these and nothing else unless
    /// the server also holds Steller's own streams (wallet-..., order-...): measure on a server without them.
    /// </summary>
    public Task<long> EventCount() => Task.FromResult(Interlocked.Read(ref appended));

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
        store.Dispose();
        await readModels.DisposeAsync();
    }
}
