using Dapper;
using Npgsql;
using Steller.Projections.Orders;

namespace Steller.Projections.Alerts;

public sealed record AlertView(string Id, string Kind, string Subject, string Status, string Details, DateTime OpenedAt,
    DateTime? AcknowledgedAt, string? AcknowledgedBy, DateTime? ClosedAt, string? CloseReason);

public sealed record AlertPage(IReadOnlyList<AlertView> Items, string? Next);

/// <summary>Reads read.alerts: pages newest first (the one pagination shape), one alert, and the causes open now.</summary>
public sealed class AlertsQuery(NpgsqlDataSource dataSource)
{
    public const int DefaultLimit = 50, MaxLimit = 500;
    public static readonly string[] Statuses = ["open", "acknowledged", "closed"];

    private const string Columns = """
        alert_id as Id, kind, subject, status, details, opened_at as OpenedAt, acknowledged_at as AcknowledgedAt,
        acknowledged_by as AcknowledgedBy, closed_at as ClosedAt, close_reason as CloseReason
        """;

    /// <summary>
    /// A page newest first (opened time, then id). <paramref name="after"/>: the previous page's next (the order list's cursor
    /// type: a time and an id).
    /// </summary>
    public async Task<AlertPage> Page(string? status, string? kind, int limit, string? after, CancellationToken ct)
    {
        if (!OrderCursor.TryDecode(after, out var cursor)) throw new ArgumentException("Not a cursor of this list.", nameof(after));
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var rows = (await conn.QueryAsync<AlertView>(new CommandDefinition($"""
            select {Columns} from read.alerts
             where (@status::text is null or status = @status) and (@kind::text is null or kind = @kind)
               and (@afterAt::timestamptz is null or (opened_at, alert_id) < (@afterAt, @afterId))
             order by opened_at desc, alert_id desc
             limit @take
            """, new { status, kind, afterAt = cursor?.PlacedAt, afterId = cursor?.OrderId, take = limit + 1 }, cancellationToken: ct))).AsList();
        var more = rows.Count > limit;
        if (more) rows.RemoveAt(rows.Count - 1);
        return new AlertPage(rows, more ? new OrderCursor(rows[^1].OpenedAt, rows[^1].Id).Encode() : null);
    }

    public async Task<AlertView?> Get(string id, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.QuerySingleOrDefaultAsync<AlertView>(new CommandDefinition(
            $"select {Columns} from read.alerts where alert_id = @id", new { id }, cancellationToken: ct));
    }

    /// <summary>The subjects of the open (or acknowledged) alerts of <paramref name="kinds"/>, by kind.</summary>
    public async Task<IReadOnlyList<(string Kind, string Subject)>> OpenCauses(IReadOnlyList<string> kinds, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<(string, string)>(new CommandDefinition(
            "select kind, subject from read.alerts where status <> 'closed' and kind = any(@kinds)", new { kinds = kinds.ToArray() },
            cancellationToken: ct))).AsList();
    }
}
