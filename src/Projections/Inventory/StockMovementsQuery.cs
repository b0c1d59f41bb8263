using System.Globalization;
using System.Text;
using Dapper;
using Npgsql;
using Steller.Projections.Wallets;
using Steller.Projections.Wallets.Statements;

namespace Steller.Projections.Inventory;

/// <summary>One movement of one stock item: signed deltas, the running levels after it, and what caused it.</summary>
public sealed record StockMovement(
    long StreamRevision,
    DateTime RecordedAt,
    string Kind,
    long OnHandDelta,
    long ReservedDelta,
    long OnHandAfter,
    long ReservedAfter,
    string? Reason,
    string Reference,
    string? OrderId,
    string? CounterpartLocation,
    int? VoucherCount,
    string Actor,
    string CorrelationId,
    string Position);

public sealed record StockMovementPage(string Sku, string Location, IReadOnlyList<StockMovement> Items, string? Next);

public sealed record LowStockItem(string Sku, string Location, long Available, long Threshold, DateTime LowSince, long LastRevision);

public sealed record LowStockPage(IReadOnlyList<LowStockItem> Items, string? Next);

/// <summary>An opaque keyset cursor (base64url of a short text): clients pass back what they were given.</summary>
public static class OpaqueCursor
{
    public static string Encode(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text)).TrimEnd('=').Replace('+', '-')
        .Replace('/', '_');

    public static bool TryDecode(string? cursor, out string text)
    {
        text = "";
        if (string.IsNullOrEmpty(cursor) || cursor.Length > 400) return false;
        try
        {
            var b64 = cursor.Replace('-', '+').Replace('_', '/');
            text = Encoding.UTF8.GetString(Convert.FromBase64String(b64.PadRight(b64.Length + (4 - b64.Length % 4) % 4, '=')));
            return true;
        }
        catch (FormatException) { return false; }
    }
}

/// <summary>
/// Reads read.stock_movements (one item, in stream order: cursor pages or the whole range as CSV) and read.low_stock.
/// <c>from</c> is inclusive, <c>to</c> exclusive (recorded time). The cursor is the stream revision of the last row
/// given: later appends only add higher revisions, so walking the pages while stock moves never repeats or skips a row.
/// </summary>
public sealed class StockMovementsQuery(NpgsqlDataSource dataSource)
{
    public const int DefaultLimit = 100, MaxLimit = 1_000;
    private const int CsvChunk = 5_000;
    private const string MovementsCursorPrefix = "m:";
    private const string LowStockCursorPrefix = "l:";

    public const string CsvHeader =
        "stream_revision,recorded_at,kind,on_hand_delta,reserved_delta,on_hand_after,reserved_after,reason,reference,order_id,"
        + "counterpart_location,voucher_count,actor,correlation_id,position";

    public static string MovementsCursor(long revision)
        => OpaqueCursor.Encode(MovementsCursorPrefix + revision.ToString(CultureInfo.InvariantCulture));

    public static bool TryMovementsCursor(string? cursor, out long afterRevision)
    {
        afterRevision = -1;
        if (cursor is null) return true;
        return OpaqueCursor.TryDecode(cursor, out var text) && text.StartsWith(MovementsCursorPrefix, StringComparison.Ordinal)
            && long.TryParse(text.AsSpan(MovementsCursorPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out afterRevision);
    }

    public static string LowStockCursor(string sku, string location) => OpaqueCursor.Encode($"{LowStockCursorPrefix}{sku}/{location}");

    public static bool TryLowStockCursor(string? cursor, out (string Sku, string Location)? after)
    {
        after = null;
        if (cursor is null) return true;
        if (!OpaqueCursor.TryDecode(cursor, out var text) || !text.StartsWith(LowStockCursorPrefix, StringComparison.Ordinal)) return false;
        var parts = text[LowStockCursorPrefix.Length..].Split('/');
        if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0) return false;
        after = (parts[0], parts[1]);
        return true;
    }

    public async Task<StockMovementPage> Page(string sku, string location, DateTimeOffset? from, DateTimeOffset? to, int limit,
        long afterRevision, CancellationToken ct = default)
    {
        if (limit is < 1 or > MaxLimit) throw new ArgumentOutOfRangeException(nameof(limit), $"limit is 1..{MaxLimit}");
        var rows = await Read(sku, location, from, to, afterRevision, limit + 1, ct);
        var more = rows.Count > limit;
        if (more) rows.RemoveAt(rows.Count - 1);
        return new StockMovementPage(sku, location, rows, more ? MovementsCursor(rows[^1].StreamRevision) : null);
    }

    /// <summary>Streams the whole range as CSV (header, then one line per movement), reading in chunks.</summary>
    public async Task WriteCsv(string sku, string location, DateTimeOffset? from, DateTimeOffset? to, TextWriter output,
        CancellationToken ct = default)
    {
        // The first chunk is read before anything is written, so a missing read model is still an error response, not a cut CSV.
        var rows = await Read(sku, location, from, to, -1, CsvChunk, ct);
        await output.WriteLineAsync(CsvHeader);
        var line = new StringBuilder();
        while (true)
        {
            foreach (var r in rows)
            {
                line.Clear()
                    .Append(r.StreamRevision.ToString(CultureInfo.InvariantCulture)).Append(',')
                    .Append(r.RecordedAt.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture)).Append(',')
                    .Append(r.Kind).Append(',')
                    .Append(r.OnHandDelta.ToString(CultureInfo.InvariantCulture)).Append(',')
                    .Append(r.ReservedDelta.ToString(CultureInfo.InvariantCulture)).Append(',')
                    .Append(r.OnHandAfter.ToString(CultureInfo.InvariantCulture)).Append(',')
                    .Append(r.ReservedAfter.ToString(CultureInfo.InvariantCulture)).Append(',')
                    .Append(WalletStatementQuery.Csv(r.Reason)).Append(',')
                    .Append(WalletStatementQuery.Csv(r.Reference)).Append(',')
                    .Append(WalletStatementQuery.Csv(r.OrderId)).Append(',')
                    .Append(WalletStatementQuery.Csv(r.CounterpartLocation)).Append(',')
                    .Append(r.VoucherCount?.ToString(CultureInfo.InvariantCulture)).Append(',')
                    .Append(WalletStatementQuery.Csv(r.Actor)).Append(',')
                    .Append(WalletStatementQuery.Csv(r.CorrelationId)).Append(',')
                    .Append(r.Position);
                await output.WriteLineAsync(line, ct);
            }
            await output.FlushAsync(ct);
            if (rows.Count < CsvChunk) return;
            rows = await Read(sku, location, from, to, rows[^1].StreamRevision, CsvChunk, ct);
        }
    }

    private async Task<List<StockMovement>> Read(string sku, string location, DateTimeOffset? from, DateTimeOffset? to, long afterRevision,
        int count, CancellationToken ct)
    {
        try
        {
            await using var conn = await dataSource.OpenConnectionAsync(ct);
            return (await conn.QueryAsync<StockMovement>(new CommandDefinition("""
                select stream_revision as StreamRevision, recorded_at as RecordedAt, kind as Kind, on_hand_delta as OnHandDelta,
                       reserved_delta as ReservedDelta, on_hand_after as OnHandAfter, reserved_after as ReservedAfter, reason as Reason,
                       reference as Reference, order_id as OrderId, counterpart_location as CounterpartLocation, voucher_count as VoucherCount,
                       actor as Actor, correlation_id as CorrelationId, commit_position || '/' || prepare_position as Position
                  from read.stock_movements
                 where sku = @sku and location = @location
                   and stream_revision > @afterRevision
                   and (@from::timestamptz is null or recorded_at >= @from)
                   and (@to::timestamptz is null or recorded_at < @to)
                 order by stream_revision
                 limit @count
                """, new { sku, location, afterRevision, from = from?.UtcDateTime, to = to?.UtcDateTime, count },
                    cancellationToken: ct))).ToList();
        }
        catch (Exception e) when (ReadModelNotReadyException.Is(e)) { throw new ReadModelNotReadyException("read.stock_movements", e); }
    }

    /// <summary>Items low right now, ordered by (sku, location), keyset pages.</summary>
    public async Task<LowStockPage> LowStock(int limit, (string Sku, string Location)? after, CancellationToken ct = default)
    {
        try
        {
            await using var conn = await dataSource.OpenConnectionAsync(ct);
            var rows = (await conn.QueryAsync<LowStockItem>(new CommandDefinition("""
                select sku as Sku, location as Location, available as Available, threshold as Threshold, low_since as LowSince, last_revision as LastRevision
                  from read.low_stock
                 where (@afterSku::text is null or (sku, location) > (@afterSku, @afterLocation))
                 order by sku, location
                 limit @take
                """, new { afterSku = after?.Sku, afterLocation = after?.Location, take = limit + 1 }, cancellationToken: ct))).ToList();
            var more = rows.Count > limit;
            if (more) rows.RemoveAt(rows.Count - 1);
            return new LowStockPage(rows, more ? LowStockCursor(rows[^1].Sku, rows[^1].Location) : null);
        }
        catch (Exception e) when (ReadModelNotReadyException.Is(e)) { throw new ReadModelNotReadyException("read.low_stock", e); }
    }
}
