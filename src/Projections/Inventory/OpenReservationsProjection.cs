using System.Text.Json;
using Steller.Application.EventStore;
using Steller.Projections.Engine;

namespace Steller.Projections.Inventory;

/// <summary>
/// read.stock_open_reservations: reservations not yet committed or released, with their expiry. The reservation-expiry
/// job reads it to find what to release; the release itself is a stock command, so a stale row can only cause a no-op.
/// </summary>
public sealed class OpenReservationsProjection : IProjection
{
    public string Name => "stock_open_reservations";
    public int Version => 1;
    public IReadOnlySet<string>? EventTypes { get; } = new HashSet<string> { "stock.reserved.v1", "stock.reservation-committed.v1", "stock.reservation-released.v1" };
    public IReadOnlyList<string> Tables { get; } = ["stock_open_reservations"];

    public string CreateTablesSql(string schema) => $"""
        create table {schema}.stock_open_reservations (
            stream_id      text        not null,
            reservation_id text        not null,
            quantity       bigint      not null,
            expires_at  timestamptz,
            order_id    text,
            placed_at   timestamptz not null,
            primary key (stream_id, reservation_id)
        );
        create index on {schema}.stock_open_reservations (expires_at) where expires_at is not null;
        """;

    public async Task Apply(IReadOnlyList<RecordedEvent> events, ProjectionContext context)
    {
        // Net effect of the batch per reservation: placed (and still open at the end of the batch) or closed.
        var open = new Dictionary<(string, string), (long Quantity, DateTime? ExpiresAt, string? OrderId, DateTime PlacedAt)>();
        var closed = new HashSet<(string, string)>();
        foreach (var e in events)
        {
            using var doc = JsonDocument.Parse(e.Data);
            var key = (e.StreamId, doc.RootElement.GetProperty("reservationId").GetString()!);
            if (e.Type == "stock.reserved.v1")
            {
                var root = doc.RootElement;
                open[key] = (root.GetProperty("quantity").GetInt64(),
                    root.TryGetProperty("expiresAt", out var x) && x.ValueKind == JsonValueKind.String ? x.GetDateTimeOffset().UtcDateTime : null,
                    root.TryGetProperty("orderId", out var o) && o.ValueKind == JsonValueKind.String ? o.GetString() : null,
                    e.Metadata.RecordedAt.UtcDateTime);
                closed.Remove(key);
            }
            else if (!open.Remove(key)) closed.Add(key);
        }
        if (closed.Count > 0)
            await context.Execute("""
                delete from {schema}.stock_open_reservations h using unnest(@streams, @reservations) as c(stream_id, reservation_id)
                where h.stream_id = c.stream_id and h.reservation_id = c.reservation_id
                """, new { streams = closed.Select(k => k.Item1).ToArray(), reservations = closed.Select(k => k.Item2).ToArray() });
        if (open.Count > 0)
            await context.Execute("""
                insert into {schema}.stock_open_reservations (stream_id, reservation_id, quantity, expires_at, order_id, placed_at)
                select * from unnest(@streams, @reservations, @quantities, @expires, @orders, @placed)
                on conflict do nothing
                """, new
            {
                streams = open.Keys.Select(k => k.Item1).ToArray(),
                reservations = open.Keys.Select(k => k.Item2).ToArray(),
                quantities = open.Values.Select(v => v.Quantity).ToArray(),
                expires = open.Values.Select(v => v.ExpiresAt).ToArray(),
                orders = open.Values.Select(v => v.OrderId).ToArray(),
                placed = open.Values.Select(v => v.PlacedAt).ToArray(),
            });
    }
}
