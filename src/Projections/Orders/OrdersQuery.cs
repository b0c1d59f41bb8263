using System.Globalization;
using System.Text;
using Dapper;
using Npgsql;
using Steller.Domain.Orders;
using Steller.Projections.Wallets;

namespace Steller.Projections.Orders;

/// <summary>One order as lists show it (read.orders). Amounts are minor units of <see cref="Currency"/>.</summary>
public sealed record OrderSummary(
    string OrderId,
    string PartnerId,
    string ClientReference,
    string Status,
    string? Currency,
    long Total,
    long Captured,
    long Released,
    long Revenue,
    long Refunded,
    string? RejectionCode,
    string? Reason,
    int Lines,
    int Delivered,
    DateTime PlacedAt,
    DateTime UpdatedAt,
    long Revision);

public sealed record OrderPage(IReadOnlyList<OrderSummary> Items, string? Next);

/// <summary>
/// Which orders a search selects; null selects any. <see cref="StuckSince"/>: only orders not final (Placed, FundsHeld,
/// Submitted) whose last change is older than this instant.
/// </summary>
public sealed record OrderFilter(string? PartnerId, OrderStatus? Status, string? Sku, DateTimeOffset? From, DateTimeOffset? To,
    DateTimeOffset? StuckSince);

/// <summary>One row of read.partner_daily_stats. <see cref="SuccessRate"/> is null when no order completed or failed.</summary>
public sealed record PartnerDailyStat(
    string PartnerId,
    DateOnly Day,
    string Sku,
    string Currency,
    long OrdersPlaced,
    long OrdersCompleted,
    long OrdersFailed,
    long OrdersRejected,
    long OrdersCancelled,
    long UnitsDelivered,
    long FaceValue,
    long Captured,
    long Refunded,
    long PartnerSpend,
    long Revenue,
    long VendorCost,
    long Margin,
    decimal? SuccessRate);

/// <summary>Where an order page continues: after this (placed_at, order_id). Opaque to clients (base64url).</summary>
public readonly record struct OrderCursor(DateTime PlacedAt, string OrderId)
{
    public string Encode() => Convert.ToBase64String(Encoding.UTF8.GetBytes(
        $"{PlacedAt.Ticks.ToString(CultureInfo.InvariantCulture)}/{OrderId}")).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static bool TryDecode(string? text, out OrderCursor? cursor)
    {
        cursor = null;
        if (string.IsNullOrEmpty(text)) return true;
        if (text.Length > 200) return false;
        try
        {
            var b64 = text.Replace('-', '+').Replace('_', '/');
            b64 = b64.PadRight(b64.Length + (4 - b64.Length % 4) % 4, '=');
            var parts = Encoding.UTF8.GetString(Convert.FromBase64String(b64)).Split('/', 2);
            if (parts.Length == 2 && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
                && ticks <= DateTime.MaxValue.Ticks && parts[1].Length > 0)
            {
                cursor = new OrderCursor(new DateTime(ticks, DateTimeKind.Utc), parts[1]);
                return true;
            }
        }
        catch (FormatException) { }
        return false;
    }
}

/// <summary>
/// Reads read.orders and read.partner_daily_stats: the partner's order list (GET /v1/orders), the orders the fulfilment
/// poller and the pending-order timeout job act on, and the admin's daily stats.
/// </summary>
public sealed class OrdersQuery(NpgsqlDataSource dataSource)
{
    public const int DefaultLimit = 50, MaxLimit = 500;

    private const string SummaryColumns = """
        order_id as OrderId, partner_id as PartnerId, client_reference as ClientReference, status as Status, currency as Currency,
        total as Total, captured as Captured, released as Released, revenue as Revenue, refunded as Refunded,
        rejection_code as RejectionCode, reason as Reason, lines as Lines, delivered as Delivered, placed_at as PlacedAt,
        updated_at as UpdatedAt, last_revision as Revision
        """;

    /// <summary>
    /// A page of a partner's orders, newest first (placed_at, then order id, descending). <paramref name="from"/> is
    /// inclusive, <paramref name="to"/> exclusive (placed time). <paramref name="after"/> is the <see cref="OrderPage.Next"/>
    /// of the previous page, or null for the first.
    /// </summary>
    /// <exception cref="ArgumentException">The cursor is not one this query issued, or the limit is outside 1..<see
    /// cref="MaxLimit"/>.</exception>
    public Task<OrderPage> Page(string partnerId, OrderStatus? status, DateTimeOffset? from, DateTimeOffset? to, int limit,
        string? after, CancellationToken ct = default) =>
        Search(new OrderFilter(partnerId, status, null, from, to, null), limit, after, ct);

    /// <summary>
    /// A page of the orders <paramref name="filter"/> selects, across partners or of one, newest first (the same order and
    /// cursor as <see cref="Page"/>).
    /// </summary>
    public async Task<OrderPage> Search(OrderFilter filter, int limit, string? after, CancellationToken ct = default)
    {
        if (limit is < 1 or > MaxLimit) throw new ArgumentOutOfRangeException(nameof(limit), $"limit is 1..{MaxLimit}");
        if (!OrderCursor.TryDecode(after, out var cursor)) throw new ArgumentException("Not a cursor of this list.", nameof(after));
        var rows = await Read($"""
            select {SummaryColumns}
              from read.orders o
             where (@partnerId::text is null or partner_id = @partnerId)
               and (@status::text is null or status = @status)
               and (@from::timestamptz is null or placed_at >= @from)
               and (@to::timestamptz is null or placed_at < @to)
               and (@sku::text is null or exists (select 1 from read.order_lines l where l.order_id = o.order_id and l.sku = @sku))
               and (@stuckSince::timestamptz is null or (status in ('Placed', 'FundsHeld', 'Submitted') and updated_at < @stuckSince))
               and (@afterAt::timestamptz is null or (placed_at, order_id) < (@afterAt, @afterId))
             order by placed_at desc, order_id desc
             limit @take
            """, new
        {
            partnerId = filter.PartnerId, status = filter.Status?.ToString(), from = filter.From?.UtcDateTime, to = filter.To?.UtcDateTime,
            sku = filter.Sku, stuckSince = filter.StuckSince?.UtcDateTime,
            afterAt = cursor?.PlacedAt, afterId = cursor?.OrderId, take = limit + 1,
        }, ct);
        var more = rows.Count > limit;
        if (more) rows.RemoveAt(rows.Count - 1);
        return new OrderPage(rows, more ? new OrderCursor(rows[^1].PlacedAt, rows[^1].OrderId).Encode() : null);
    }

    /// <summary>
    /// Orders in fulfilment (FundsHeld or Submitted) not updated since <paramref name="olderThan"/> (inclusive), oldest first.
    /// </summary>
    public Task<IReadOnlyList<string>> InFlight(DateTimeOffset olderThan, int limit, CancellationToken ct = default) =>
        Ids("""
            select order_id from read.orders
             where status in ('FundsHeld', 'Submitted') and updated_at <= @at
             order by updated_at, order_id
             limit @limit
            """, new { at = olderThan.UtcDateTime, limit }, ct);

    /// <summary>
    /// Orders still pending (Placed or FundsHeld) placed before <paramref name="placedBefore"/> (exclusive), oldest first.
    /// </summary>
    public Task<IReadOnlyList<string>> PendingSince(DateTimeOffset placedBefore, int limit, CancellationToken ct = default) =>
        Ids("""
            select order_id from read.orders
             where status in ('Placed', 'FundsHeld') and placed_at < @at
             order by placed_at, order_id
             limit @limit
            """, new { at = placedBefore.UtcDateTime, limit }, ct);

    /// <summary>
    /// Daily stats from <paramref name="from"/> to <paramref name="to"/> (both inclusive UTC days), of one partner or all.
    /// </summary>
    public async Task<IReadOnlyList<PartnerDailyStat>> DailyStats(string? partnerId, DateOnly from, DateOnly to,
        CancellationToken ct = default)
    {
        try
        {
            await using var conn = await dataSource.OpenConnectionAsync(ct);
            var rows = await conn.QueryAsync<StatRow>(new CommandDefinition("""
                select partner_id as PartnerId, day::timestamp as Day, sku as Sku, currency as Currency, orders_placed as OrdersPlaced,
                       orders_completed as OrdersCompleted, orders_failed as OrdersFailed, orders_rejected as OrdersRejected,
                       orders_cancelled as OrdersCancelled, units_delivered as UnitsDelivered, face_value as FaceValue, captured as Captured,
                       refunded as Refunded, partner_spend as PartnerSpend, revenue as Revenue, vendor_cost as VendorCost, margin as Margin,
                       success_rate as SuccessRate
                  from read.partner_daily_stats
                 where (@partnerId::text is null or partner_id = @partnerId) and day between @from::date and @to::date
                 order by day, partner_id, sku, currency
                """, new { partnerId, from = from.ToDateTime(TimeOnly.MinValue), to = to.ToDateTime(TimeOnly.MinValue) },
                    cancellationToken: ct));
            return rows.Select(r => new PartnerDailyStat(r.PartnerId, DateOnly.FromDateTime(r.Day), r.Sku, r.Currency, r.OrdersPlaced,
                r.OrdersCompleted, r.OrdersFailed, r.OrdersRejected, r.OrdersCancelled, r.UnitsDelivered, r.FaceValue, r.Captured,
                r.Refunded, r.PartnerSpend, r.Revenue, r.VendorCost, r.Margin, r.SuccessRate)).ToList();
        }
        catch (Exception e) when (ReadModelNotReadyException.Is(e)) { throw new ReadModelNotReadyException("read.partner_daily_stats", e); }
    }

    private sealed record StatRow(string PartnerId, DateTime Day, string Sku, string Currency, long OrdersPlaced, long OrdersCompleted,
        long OrdersFailed, long OrdersRejected, long OrdersCancelled, long UnitsDelivered, long FaceValue, long Captured, long Refunded,
        long PartnerSpend, long Revenue, long VendorCost, long Margin, decimal? SuccessRate);

    private async Task<List<OrderSummary>> Read(string sql, object parameters, CancellationToken ct)
    {
        try
        {
            await using var conn = await dataSource.OpenConnectionAsync(ct);
            return (await conn.QueryAsync<OrderSummary>(new CommandDefinition(sql, parameters, cancellationToken: ct))).ToList();
        }
        catch (Exception e) when (ReadModelNotReadyException.Is(e)) { throw new ReadModelNotReadyException("read.orders", e); }
    }

    private async Task<IReadOnlyList<string>> Ids(string sql, object parameters, CancellationToken ct)
    {
        try
        {
            await using var conn = await dataSource.OpenConnectionAsync(ct);
            return (await conn.QueryAsync<string>(new CommandDefinition(sql, parameters, cancellationToken: ct))).ToList();
        }
        catch (Exception e) when (ReadModelNotReadyException.Is(e)) { throw new ReadModelNotReadyException("read.orders", e); }
    }
}
