using Steller.Application.EventStore;
using Steller.Application.Serialization;

using Steller.Projections.Engine;

namespace Steller.Projections.Engine;

/// <summary>What an event does to an open item: opens it (with its quantity, expiry and order) or closes it.</summary>
public abstract record OpenItemChange(string Id);
public sealed record ItemOpened(string Id, long Quantity, DateTimeOffset? ExpiresAt, string? OrderId) : OpenItemChange(Id);
public sealed record ItemClosed(string Id) : OpenItemChange(Id);

/// <summary>
/// Describes an "open items with an expiry" read model: <paramref name="Read"/> tells what a (deserialized) event does
/// to an item (wallet hold, stock reservation), null for events that do nothing; <paramref name="EventTypes"/> are the
/// names of those events. <paramref name="IdColumn"/> and <paramref name="QuantityColumn"/> are the table's columns;
/// <paramref name="Doc"/> what analysts read about its view.
/// </summary>
public sealed record OpenItemsShape(string Name, string Table, IReadOnlySet<string> EventTypes, Func<object?, OpenItemChange?> Read,
    string IdColumn, string QuantityColumn, ReadViewDoc Doc);

/// <summary>
/// Keeps a table of items opened and not yet closed, with their expiry, for the jobs that release expired ones.
/// The release itself is always a command to the aggregate, so a stale row can only cause a no-op.
/// </summary>
public abstract class OpenItemsProjection(OpenItemsShape shape) : IProjection
{
    private static readonly EventTypeRegistry Registry = ProjectionEvents.Registry;

    public string Name => shape.Name;
    public int Version => 1;
    public IReadOnlySet<string>? EventTypes => shape.EventTypes;
    public IReadOnlyList<string> Tables { get; } = [shape.Table];

    public string CreateTablesSql(string schema) => $"""
        create table {schema}.{shape.Table} (
            stream_id   text        not null,
            {shape.IdColumn} text not null,
            {shape.QuantityColumn} bigint not null,
            expires_at  timestamptz,
            order_id    text,
            placed_at   timestamptz not null,
            primary key (stream_id, {shape.IdColumn})
        );
        create index on {schema}.{shape.Table} (expires_at) where expires_at is not null;
        """;

    public IReadOnlyList<ReadViewDoc> Docs => [shape.Doc];

    /// <summary>An item opened in the batch and still open at its end.</summary>
    public sealed record OpenRow(string StreamId, string Id, long Quantity, DateTime? ExpiresAt, string? OrderId, DateTime PlacedAt);

    /// <summary>The net effect of a batch: items opened (and still open at its end), and items closed.</summary>
    public sealed record Changes(IReadOnlyList<OpenRow> Opened, IReadOnlyList<(string StreamId, string Id)> Closed);

    /// <summary>The pure fold: item changes in log order (with their stream and recorded time) to the batch's net effect.</summary>
    public static Changes Fold(IEnumerable<(string StreamId, OpenItemChange Change, DateTime RecordedAt)> changes)
    {
        var open = new Dictionary<(string, string), OpenRow>();
        var closed = new HashSet<(string, string)>();
        foreach (var (stream, change, at) in changes)
        {
            var key = (stream, change.Id);
            if (change is ItemOpened o)
            {
                open[key] = new OpenRow(stream, o.Id, o.Quantity, o.ExpiresAt?.UtcDateTime, o.OrderId, at);
                closed.Remove(key);
            }
            else if (!open.Remove(key)) closed.Add(key);
        }
        return new Changes(open.Values.ToList(), closed.ToList());
    }

    public async Task Apply(IReadOnlyList<RecordedEvent> events, ProjectionContext context)
    {
        var changes = Fold(events
            .Select(e => (e.StreamId, Change: shape.Read(Registry.Deserialize(e.Type, e.Data.Span)), RecordedAt: e.Metadata.RecordedAt.UtcDateTime))
            .Where(x => x.Change is not null)
            .Select(x => (x.StreamId, x.Change!, x.RecordedAt)));
        if (changes.Closed.Count > 0)
        {
            var closed = ColumnArrays.Of(changes.Closed).With("stream_id", k => k.StreamId).With(shape.IdColumn, k => k.Id);
            await context.Execute($"""
                delete from {"{schema}"}.{shape.Table} h using {closed.Unnest("c")}
                where h.stream_id = c.stream_id and h.{shape.IdColumn} = c.{shape.IdColumn}
                """, closed.Parameters);
        }
        if (changes.Opened.Count > 0)
        {
            var opened = ColumnArrays.Of(changes.Opened)
                .With("stream_id", r => r.StreamId).With(shape.IdColumn, r => r.Id).With(shape.QuantityColumn, r => r.Quantity)
                .With("expires_at", r => r.ExpiresAt).With("order_id", r => r.OrderId).With("placed_at", r => r.PlacedAt);
            await context.Execute($$"""
                insert into {schema}.{{shape.Table}} ({{opened.Columns}}) select * from {{opened.Unnest()}}
                on conflict do nothing
                """, opened.Parameters);
        }
    }
}
