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

    public IReadOnlyList<ReadViewDoc> Docs { get; } =
    [
        new("stream_stats", "One row per event stream of the event store: how many events, and the last one.",
            ("stream_id", "The stream, e.g. wallet-acme-EUR, order-{order id}, product-{sku}."),
            ("events", "Events in the stream."),
            ("last_revision", "Revision of its last event (the first is 0)."),
            ("last_event_type", "Stored name of its last event, e.g. wallet.deposited.v1."),
            ("last_recorded_at", "When its last event was recorded (UTC).")),
    ];

    public Task Apply(IReadOnlyList<RecordedEvent> events, ProjectionContext context)
    {
        // Fold the batch per stream first: one upsert row per stream, one statement per batch.
        var folded = new Dictionary<string, (long Count, RecordedEvent Last)>();
        foreach (var e in events)
            folded[e.StreamId] = folded.TryGetValue(e.StreamId, out var f) ? (f.Count + 1, e) : (1, e);

        var rows = ColumnArrays.Of(folded.ToList())
            .With("stream_id", f => f.Key).With("events", f => f.Value.Count).With("last_revision", f => f.Value.Last.Revision.Value)
            .With("last_event_type", f => f.Value.Last.Type).With("last_recorded_at", f => f.Value.Last.Metadata.RecordedAt.UtcDateTime);
        return context.Execute($$"""
            insert into {schema}.stream_stats as s ({{rows.Columns}}) select * from {{rows.Unnest()}}
            on conflict (stream_id) do update set
                events           = s.events + excluded.events,
                last_revision    = excluded.last_revision,
                last_event_type  = excluded.last_event_type,
                last_recorded_at = excluded.last_recorded_at
            """, rows.Parameters);
    }
}
