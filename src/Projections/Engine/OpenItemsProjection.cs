using System.Text.Json;
using Steller.Application.EventStore;

namespace Steller.Projections.Engine;

/// <summary>
/// Describes an "open items with an expiry" read model: one event opens an item (wallet hold, stock reservation),
/// others close it. <paramref name="IdProperty"/> and <paramref name="QuantityProperty"/> are the JSON names in the
/// events; <paramref name="IdColumn"/> and <paramref name="QuantityColumn"/> the table's columns.
/// </summary>
public sealed record OpenItemsShape(string Name, string Table, string OpenedType, IReadOnlyList<string> ClosedTypes,
    string IdProperty, string IdColumn, string QuantityProperty, string QuantityColumn);

/// <summary>
/// Keeps a table of items opened and not yet closed, with their expiry, for the jobs that release expired ones.
/// The release itself is always a command to the aggregate, so a stale row can only cause a no-op.
/// </summary>
public abstract class OpenItemsProjection(OpenItemsShape shape) : IProjection
{
    public string Name => shape.Name;
    public int Version => 1;
    public IReadOnlySet<string>? EventTypes { get; } = new HashSet<string>([shape.OpenedType, .. shape.ClosedTypes]);
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

    public async Task Apply(IReadOnlyList<RecordedEvent> events, ProjectionContext context)
    {
        // Net effect of the batch per item: opened (and still open at the end of the batch) or closed.
        var open = new Dictionary<(string, string), (long Quantity, DateTime? ExpiresAt, string? OrderId, DateTime PlacedAt)>();
        var closed = new HashSet<(string, string)>();
        foreach (var e in events)
        {
            using var doc = JsonDocument.Parse(e.Data);
            var root = doc.RootElement;
            var key = (e.StreamId, root.GetProperty(shape.IdProperty).GetString()!);
            if (e.Type == shape.OpenedType)
            {
                open[key] = (root.GetProperty(shape.QuantityProperty).GetInt64(),
                    root.TryGetProperty("expiresAt", out var x) && x.ValueKind == JsonValueKind.String ? x.GetDateTimeOffset().UtcDateTime : null,
                    root.TryGetProperty("orderId", out var o) && o.ValueKind == JsonValueKind.String ? o.GetString() : null,
                    e.Metadata.RecordedAt.UtcDateTime);
                closed.Remove(key);
            }
            else if (!open.Remove(key)) closed.Add(key);
        }
        if (closed.Count > 0)
            await context.Execute($$"""
                delete from {schema}.{{shape.Table}} h using unnest(@streams, @ids) as c(stream_id, item_id)
                where h.stream_id = c.stream_id and h.{{shape.IdColumn}} = c.item_id
                """, new { streams = closed.Select(k => k.Item1).ToArray(), ids = closed.Select(k => k.Item2).ToArray() });
        if (open.Count > 0)
            await context.Execute($$"""
                insert into {schema}.{{shape.Table}} (stream_id, {{shape.IdColumn}}, {{shape.QuantityColumn}}, expires_at, order_id, placed_at)
                select * from unnest(@streams, @ids, @quantities, @expires, @orders, @placed)
                on conflict do nothing
                """, new
            {
                streams = open.Keys.Select(k => k.Item1).ToArray(),
                ids = open.Keys.Select(k => k.Item2).ToArray(),
                quantities = open.Values.Select(v => v.Quantity).ToArray(),
                expires = open.Values.Select(v => v.ExpiresAt).ToArray(),
                orders = open.Values.Select(v => v.OrderId).ToArray(),
                placed = open.Values.Select(v => v.PlacedAt).ToArray(),
            });
    }
}
