using Steller.Application.EventStore;
using Steller.Projections.Engine;

namespace Steller.Projections.Streams;

/// <summary>
/// read.stream_stats: per stream, how many events, the last revision, type and time. An operator's view of
/// the event store, and the simple read model the rebuild benchmark measures.
/// </summary>
public sealed class StreamStatsProjection : IProjection
{
    public string Name => "stream_stats";
    public int Version => 1;
    public IReadOnlySet<string>? EventTypes => null;
    public IReadOnlyList<string> Tables { get; } = ["stream_stats"];

    public string CreateTablesSql(string schema) => $"""
        create table {schema}.stream_stats (
            stream_id        text        primary key,
            events           bigint      not null,
            last_revision    bigint      not null,
            last_event_type  text        not null,
            last_recorded_at timestamptz not null
        );
        """;

    public Task Apply(IReadOnlyList<RecordedEvent> events, ProjectionContext context)
    {
        // Fold the batch per stream first: one upsert row per stream, one statement per batch.
        var folded = new Dictionary<string, (long Count, RecordedEvent Last)>();
        foreach (var e in events)
            folded[e.StreamId] = folded.TryGetValue(e.StreamId, out var f) ? (f.Count + 1, e) : (1, e);

        return context.Execute("""
            insert into {schema}.stream_stats as s (stream_id, events, last_revision, last_event_type, last_recorded_at)
            select * from unnest(@ids, @counts, @revisions, @types, @times)
            on conflict (stream_id) do update set
                events           = s.events + excluded.events,
                last_revision    = excluded.last_revision,
                last_event_type  = excluded.last_event_type,
                last_recorded_at = excluded.last_recorded_at
            """, new
        {
            ids = folded.Keys.ToArray(),
            counts = folded.Values.Select(v => v.Count).ToArray(),
            revisions = folded.Values.Select(v => v.Last.Revision.Value).ToArray(),
            types = folded.Values.Select(v => v.Last.Type).ToArray(),
            times = folded.Values.Select(v => v.Last.Metadata.RecordedAt.UtcDateTime).ToArray(),
        });
    }
}
