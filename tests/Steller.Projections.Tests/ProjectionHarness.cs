using System.Text;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Steller.Application.EventStore;
using Steller.Infrastructure.Configuration;
using Steller.Infrastructure.Postgres;
using Steller.Projections.Engine;
using Steller.Testing;

namespace Steller.Projections.Tests;

/// <summary>A migrated database, its event store and the engine's parts, wired as the API wires them.</summary>
public sealed class ProjectionHarness : IAsyncDisposable
{
    public TestDatabase Db { get; }
    public PostgresEventStore Store { get; }
    public ProjectionStore Bookkeeping { get; }
    public ProjectionSettings Settings { get; }
    public ProjectionRebuilder Rebuilder { get; }

    private readonly List<(CancellationTokenSource Stop, Task Run)> running = [];

    private ProjectionHarness(TestDatabase db, ProjectionSettings settings)
    {
        Db = db;
        Settings = settings;
        Store = db.CreateEventStore();
        Bookkeeping = new ProjectionStore(db.DataSource);
        Rebuilder = new ProjectionRebuilder(Store, Bookkeeping, settings, NullLogger<ProjectionRebuilder>.Instance);
        Log = new LogTail(Store);
        Group = new ProjectionGroup(Log, Bookkeeping, settings, NullLogger<ProjectionGroup>.Instance);
    }

    /// <summary>The live projections of this "process", applied together (one transaction per batch).</summary>
    public ProjectionGroup Group { get; }

    /// <summary>The shared log reader of this "process": every worker started here follows the log through it.</summary>
    public LogTail Log { get; }

    public static async Task<ProjectionHarness> Create(string purpose, int batchSize = 100, int rebuildBatchSize = 1000) =>
        new(await TestDatabase.Create(purpose), new ProjectionSettings(true, batchSize, rebuildBatchSize, RetryDelayMilliseconds: 20));

    public ProjectionWorker Worker(IProjection projection) =>
        new(projection, Log, Bookkeeping, Rebuilder, Settings, NullLogger<ProjectionWorker>.Instance, Group);

    /// <summary>Starts a worker in the background; returns a handle that stops it.</summary>
    public (ProjectionWorker Worker, CancellationTokenSource Stop) Start(IProjection projection)
    {
        var worker = Worker(projection);
        var stop = new CancellationTokenSource();
        running.Add((stop, Task.Run(() => worker.Run(stop.Token))));
        return (worker, stop);
    }

    /// <summary>Appends <paramref name="count"/> events spread over <paramref name="streams"/> streams, payload {"n": value}.</summary>
    public async Task<long> Append(int streams, int count, string prefix = "acct", int writers = 4, string type = "test.counted.v1")
    {
        var names = Enumerable.Range(0, streams).Select(i => $"{prefix}-{i}").ToArray();
        long sum = 0;
        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            for (var i = w; i < count; i += writers)
            {
                var n = i + 1;
                Interlocked.Add(ref sum, n);
                await Store.Append(names[i % streams], ExpectedRevision.Any, [Events.Make(type, $$"""{"n":{{n}}}""")]);
            }
        })));
        return sum;
    }

    public async Task<long> LogCount() => await Store.CountAfter(LogPosition.Start);

    /// <summary>
    /// Waits until the active generation of <paramref name="name"/> has read every committed event. Counted against
    /// count(*) of es.events, not the log's gap-safe read: that one rightly hides commits newer than any still-running
    /// transaction (the worker's own batch, say), which would let "caught up" be declared a moment early.
    /// </summary>
    public async Task CaughtUp(string name, TimeSpan? timeout = null) =>
        await Eventually.True(async () =>
        {
            var active = await Bookkeeping.GetActive(name, default);
            if (active is null) return false;
            var checkpoint = await Bookkeeping.LoadCheckpoint(name, active.Generation, default);
            return checkpoint.EventsApplied == await Db.Scalar<long>("select count(*) from es.events");
        }, timeout ?? TimeSpan.FromSeconds(60), $"projection {name} has read the whole log");

    /// <summary>The per-stream truth, folded straight from the event store's table.</summary>
    public async Task<Dictionary<string, (long Events, long LastRevision)>> FoldFromLog()
    {
        await using var conn = await Db.DataSource.OpenConnectionAsync();
        var rows = await conn.QueryAsync<(string Stream, long Events, long Last)>(
            "select stream_id, count(*), max(revision) from es.events group by stream_id");
        return rows.ToDictionary(r => r.Stream, r => (r.Events, r.Last));
    }

    public static long N(RecordedEvent e) => JsonDocument.Parse(Encoding.UTF8.GetString(e.Data.Span)).RootElement.GetProperty("n").GetInt64();

    public async ValueTask DisposeAsync()
    {
        foreach (var (stop, _) in running) stop.Cancel();
        foreach (var (_, run) in running) { try { await run.WaitAsync(TimeSpan.FromSeconds(10)); } catch { /* stopping */ } }
        await Group.DisposeAsync();
        await Log.DisposeAsync();
        await Db.DisposeAsync();
    }
}
