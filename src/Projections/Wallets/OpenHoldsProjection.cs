using System.Text.Json;
using Steller.Application.EventStore;
using Steller.Projections.Engine;

namespace Steller.Projections.Wallets;

/// <summary>
/// read.wallet_open_holds: holds not yet captured or released, with their expiry. The hold-expiry job reads it to
/// find what to release; the release itself is a wallet command, so a stale row can only cause a no-op.
/// </summary>
public sealed class OpenHoldsProjection : IProjection
{
    public string Name => "wallet_open_holds";
    public int Version => 1;
    public IReadOnlySet<string>? EventTypes { get; } = new HashSet<string> { "wallet.hold-placed.v1", "wallet.hold-captured.v1", "wallet.hold-released.v1" };
    public IReadOnlyList<string> Tables { get; } = ["wallet_open_holds"];

    public string CreateTablesSql(string schema) => $"""
        create table {schema}.wallet_open_holds (
            stream_id   text        not null,
            transfer_id text        not null,
            amount      bigint      not null,
            expires_at  timestamptz,
            order_id    text,
            placed_at   timestamptz not null,
            primary key (stream_id, transfer_id)
        );
        create index on {schema}.wallet_open_holds (expires_at) where expires_at is not null;
        """;

    public async Task Apply(IReadOnlyList<RecordedEvent> events, ProjectionContext context)
    {
        // Net effect of the batch per hold: placed (and still open at the end of the batch) or closed.
        var open = new Dictionary<(string, string), (long Amount, DateTime? ExpiresAt, string? OrderId, DateTime PlacedAt)>();
        var closed = new HashSet<(string, string)>();
        foreach (var e in events)
        {
            using var doc = JsonDocument.Parse(e.Data);
            var key = (e.StreamId, doc.RootElement.GetProperty("transferId").GetString()!);
            if (e.Type == "wallet.hold-placed.v1")
            {
                var root = doc.RootElement;
                open[key] = (root.GetProperty("amount").GetInt64(),
                    root.TryGetProperty("expiresAt", out var x) && x.ValueKind == JsonValueKind.String ? x.GetDateTimeOffset().UtcDateTime : null,
                    root.TryGetProperty("orderId", out var o) && o.ValueKind == JsonValueKind.String ? o.GetString() : null,
                    e.Metadata.RecordedAt.UtcDateTime);
                closed.Remove(key);
            }
            else if (!open.Remove(key)) closed.Add(key);
        }
        if (closed.Count > 0)
            await context.Execute("""
                delete from {schema}.wallet_open_holds h using unnest(@streams, @transfers) as c(stream_id, transfer_id)
                where h.stream_id = c.stream_id and h.transfer_id = c.transfer_id
                """, new { streams = closed.Select(k => k.Item1).ToArray(), transfers = closed.Select(k => k.Item2).ToArray() });
        if (open.Count > 0)
            await context.Execute("""
                insert into {schema}.wallet_open_holds (stream_id, transfer_id, amount, expires_at, order_id, placed_at)
                select * from unnest(@streams, @transfers, @amounts, @expires, @orders, @placed)
                on conflict do nothing
                """, new
            {
                streams = open.Keys.Select(k => k.Item1).ToArray(),
                transfers = open.Keys.Select(k => k.Item2).ToArray(),
                amounts = open.Values.Select(v => v.Amount).ToArray(),
                expires = open.Values.Select(v => v.ExpiresAt).ToArray(),
                orders = open.Values.Select(v => v.OrderId).ToArray(),
                placed = open.Values.Select(v => v.PlacedAt).ToArray(),
            });
    }
}
