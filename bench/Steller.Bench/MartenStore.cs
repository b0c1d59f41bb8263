using JasperFx;
using JasperFx.Events;
using JasperFx.Events.Projections;
using Marten;
using Marten.Events.Aggregation;
using Microsoft.Extensions.Logging.Abstractions;

namespace Steller.Bench;

/// <summary>The read model Steller's StreamStatsProjection builds, as a Marten document: one per stream.</summary>
public sealed class MartenStreamStats
{
    public string Id { get; set; } = "";
    public long Events { get; set; }
    public long LastVersion { get; set; }
    public string LastEventType { get; set; } = "";
    public DateTimeOffset LastTimestamp { get; set; }
}

/// <summary>Per-stream count and last version, folded by Marten's own aggregation machinery.</summary>
public sealed class MartenStreamStatsProjection : SingleStreamProjection<MartenStreamStats, string>
{
    public MartenStreamStatsProjection()
    {
        IncludeType<ItemAdded>();
        IncludeType<ItemRemoved>();
        IncludeType<CartCheckedOut>();
    }

    public override MartenStreamStats Evolve(MartenStreamStats? snapshot, string id, IEvent e)
    {
        snapshot ??= new MartenStreamStats { Id = id };
        snapshot.Events++;
        snapshot.LastVersion = e.Version;
        snapshot.LastEventType = e.EventTypeName;
        snapshot.LastTimestamp = e.Timestamp;
        return snapshot;
    }
}

/// <summary>Marten's event store in QuickAppend mode, string stream ids, correlation/causation/headers metadata on.</summary>
public sealed class MartenStore(DocumentStore store, string connectionString) : IStoreUnderTest
{
    public string Name => "Marten";

    public DocumentStore Store => store;

    public static async Task<MartenStore> Create(string connectionString)
    {
        var store = DocumentStore.For(opts =>
        {
            opts.Connection(connectionString);
            opts.DatabaseSchemaName = "marten";
            opts.AutoCreateSchemaObjects = AutoCreate.CreateOrUpdate;
            opts.Events.AppendMode = EventAppendMode.Quick;
            opts.Events.StreamIdentity = StreamIdentity.AsString;
            // Steller writes correlation id, causation id, command id and actor on every event: ask Marten for the same.
            opts.Events.MetadataConfig.CorrelationIdEnabled = true;
            opts.Events.MetadataConfig.CausationIdEnabled = true;
            opts.Events.MetadataConfig.HeadersEnabled = true;
            opts.Projections.Add<MartenStreamStatsProjection>(ProjectionLifecycle.Async);
        });
        await store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
        return new MartenStore(store, connectionString);
    }

    public async Task Append(string stream, long n, int count)
    {
        await using var session = store.LightweightSession();
        var commandId = Guid.CreateVersion7();
        session.CorrelationId = commandId.ToString("N");
        session.CausationId = commandId.ToString("N");
        session.SetHeader("commandId", commandId);
        session.SetHeader("actor", "bench");
        session.Events.Append(stream, Payloads.MartenEvents(n, count));
        await session.SaveChangesAsync();
    }

    public async Task AppendMany(IReadOnlyList<(string Stream, long N, int Count)> appends)
    {
        await using var session = store.LightweightSession();
        var commandId = Guid.CreateVersion7();
        session.CorrelationId = commandId.ToString("N");
        session.CausationId = commandId.ToString("N");
        session.SetHeader("commandId", commandId);
        session.SetHeader("actor", "bench");
        foreach (var (stream, n, count) in appends) session.Events.Append(stream, Payloads.MartenEvents(n, count));
        await session.SaveChangesAsync();
    }

    public async Task<long> ReadAll(int pageSize, long maxEvents)
    {
        long read = 0, after = 0;
        await using var session = store.QuerySession();
        while (true)
        {
            var take = (int)Math.Min(pageSize, maxEvents - read);
            var page = await session.Events.QueryAllRawEvents()
                .Where(e => e.Sequence > after).OrderBy(e => e.Sequence).Take(take).ToListAsync();
            read += page.Count;
            if (page.Count < take || read >= maxEvents) return read;
            after = page[^1].Sequence;
        }
    }

    public async Task Rebuild()
    {
        using var daemon = await store.BuildProjectionDaemonAsync(logger: NullLogger.Instance);
        await daemon.RebuildProjectionAsync<MartenStreamStatsProjection>(TimeSpan.FromHours(1), CancellationToken.None);
    }

    public async Task<(long Streams, long Events)> ReadModelTotals()
    {
        await using var session = store.QuerySession();
        var streams = await session.Query<MartenStreamStats>().CountAsync();
        var events = streams == 0 ? 0 : await session.Query<MartenStreamStats>().SumAsync(x => x.Events);
        return (streams, events);
    }

    public async Task<long> EventCount()
    {
        await using var conn = new Npgsql.NpgsqlConnection(connectionString);
        await conn.OpenAsync();
        await using var cmd = new Npgsql.NpgsqlCommand("select count(*) from marten.mt_events", conn);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    public async Task WarmUp()
    {
        for (var i = 0; i < 20; i++) await Append($"warmup-{i % 4}", i, 1 + i % 3);
        await ReadAll(100, long.MaxValue);
        await Rebuild();
    }

    public ValueTask DisposeAsync()
    {
        store.Dispose();
        return ValueTask.CompletedTask;
    }
}
