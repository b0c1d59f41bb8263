using System.Globalization;
using System.Text;
using Dapper;
using Npgsql;
using Steller.Domain;
using Steller.Projections.Wallets.Balances;

namespace Steller.Projections.Wallets.Statements;

/// <summary>
/// One line of a wallet statement: a posting on the wallet with the balance after it. Amounts are signed minor units (+ credit).
/// </summary>
public sealed record StatementEntry(
    DateTime RecordedAt,
    string Kind,
    string TransferId,
    string? OrderId,
    string CounterAccount,
    long Amount,
    long BalanceAfter,
    string? Reference,
    long StreamRevision,
    string Position);

/// <summary>One page of a statement: the wallet, its entries, and where the next page starts (null on the last page).</summary>
public sealed record StatementPage(WalletBalance Wallet, IReadOnlyList<StatementEntry> Items, string? Next);

/// <summary>Where a statement page continues: after this entry (log position and posting leg). Opaque to clients (base64url).</summary>
public readonly record struct StatementCursor(long Commit, long Prepare, int Leg)
{
    public static readonly StatementCursor Start = new(-1, -1, -1);

    public string Encode() => Convert.ToBase64String(Encoding.ASCII.GetBytes($"{Commit}/{Prepare}/{Leg}")).TrimEnd('=').Replace('+', '-')
        .Replace('/', '_');

    public static bool TryDecode(string? text, out StatementCursor cursor)
    {
        cursor = Start;
        if (string.IsNullOrEmpty(text)) return true;
        if (text.Length > 100) return false;
        try
        {
            var b64 = text.Replace('-', '+').Replace('_', '/');
            b64 = b64.PadRight(b64.Length + (4 - b64.Length % 4) % 4, '=');
            var parts = Encoding.ASCII.GetString(Convert.FromBase64String(b64)).Split('/');
            if (parts.Length == 3 && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var c)
                && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var p)
                && int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var l))
            {
                cursor = new StatementCursor(c, p, l);
                return true;
            }
        }
        catch (FormatException) { }
        return false;
    }
}

/// <summary>
/// The statement of one wallet from read.ledger_entries: cursor pages in log order, or the whole range as CSV.
/// Serves GET /admin/partners/{partnerId}/wallets/{currency}/statement and, once partner signing exists,
/// GET /v1/wallets/{currency}/statement (pass the authenticated partner's id).
/// <paramref name="from"/> is inclusive, <paramref name="to"/> exclusive (recorded time).
/// </summary>
public sealed class WalletStatementQuery(NpgsqlDataSource dataSource, WalletBalancesQuery wallets)
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;
    private const int CsvChunk = 5_000;

    private sealed record Row(DateTime RecordedAt, string Kind, string TransferId, string? OrderId, string CounterAccount, long Amount,
        long BalanceAfter, string? Reference, long StreamRevision, long Commit, long Prepare, int Leg);

    /// <summary>A page of the statement, or null when the partner has no wallet in this currency.</summary>
    public async Task<StatementPage?> Page(string partnerId, string currency, DateTimeOffset? from, DateTimeOffset? to, int limit,
        StatementCursor after, CancellationToken ct = default)
    {
        if (limit is < 1 or > MaxLimit) throw new ArgumentOutOfRangeException(nameof(limit), $"limit is 1..{MaxLimit}");
        var wallet = await wallets.One(partnerId, currency, ct);
        if (wallet is null) return null;
        var rows = await Read(wallet.Account, from, to, after, limit + 1, ct);
        var entries = rows.Take(limit).Select(ToEntry).ToList();
        var next = rows.Count > limit
            ? new StatementCursor(rows[limit - 1].Commit, rows[limit - 1].Prepare, rows[limit - 1].Leg).Encode() : null;
        return new StatementPage(wallet, entries, next);
    }

    /// <summary>
    /// Streams the whole range as CSV (a header, then one line per entry), reading in chunks. False when there is no such wallet.
    /// Amounts are in major units with the currency's ISO 4217 exponent (EUR 100.00, JPY 100, BHD 100.000), for a spreadsheet;
    /// the JSON pages keep integer minor units.
    /// </summary>
    public async Task<bool> WriteCsv(string partnerId, string currency, DateTimeOffset? from, DateTimeOffset? to, TextWriter output,
        CancellationToken ct = default)
    {
        var wallet = await wallets.One(partnerId, currency, ct);
        if (wallet is null) return false;
        await output.WriteLineAsync(
            "recorded_at,kind,transfer_id,order_id,counter_account,amount,balance_after,currency,reference,stream_revision,position");
        var cursor = StatementCursor.Start;
        while (true)
        {
            var rows = await Read(wallet.Account, from, to, cursor, CsvChunk, ct);
            var line = new StringBuilder();
            foreach (var r in rows)
            {
                line.Clear()
                    .Append(r.RecordedAt.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture)).Append(',')
                    .Append(Csv(r.Kind)).Append(',').Append(Csv(r.TransferId)).Append(',').Append(Csv(r.OrderId)).Append(',')
                    .Append(Csv(r.CounterAccount)).Append(',').Append(Money.Format(r.Amount, currency)).Append(',')
                    .Append(Money.Format(r.BalanceAfter, currency)).Append(',').Append(currency).Append(',')
                    .Append(Csv(r.Reference)).Append(',').Append(r.StreamRevision.ToString(CultureInfo.InvariantCulture)).Append(',')
                    .Append(r.Commit).Append('/').Append(r.Prepare);
                await output.WriteLineAsync(line, ct);
            }
            await output.FlushAsync(ct);
            if (rows.Count < CsvChunk) return true;
            cursor = new StatementCursor(rows[^1].Commit, rows[^1].Prepare, rows[^1].Leg);
        }
    }

    private async Task<List<Row>> Read(string account, DateTimeOffset? from, DateTimeOffset? to, StatementCursor after, int count,
        CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<Row>(new CommandDefinition("""
            select recorded_at as RecordedAt, kind as Kind, transfer_id as TransferId, order_id as OrderId, counter_account as CounterAccount,
                   amount as Amount, balance_after as BalanceAfter, reference as Reference, stream_revision as StreamRevision,
                   commit_position as Commit, prepare_position as Prepare, leg as Leg
              from read.ledger_entries
             where account = @account
               and (commit_position, prepare_position, leg) > (@commit, @prepare, @leg)
               and (@from::timestamptz is null or recorded_at >= @from)
               and (@to::timestamptz is null or recorded_at < @to)
             order by commit_position, prepare_position, leg
             limit @count
            """, new { account, commit = after.Commit, prepare = after.Prepare, leg = after.Leg, from = from?.UtcDateTime,
                to = to?.UtcDateTime, count },
            cancellationToken: ct))).ToList();
    }

    private static StatementEntry ToEntry(Row r) => new(r.RecordedAt, r.Kind, r.TransferId, r.OrderId, r.CounterAccount, r.Amount,
        r.BalanceAfter, r.Reference, r.StreamRevision, $"{r.Commit}/{r.Prepare}");

    /// <summary>RFC 4180 quoting; text that a spreadsheet would run as a formula gets a leading apostrophe.</summary>
    public static string Csv(string? value)
    {
        if (string.IsNullOrEmpty(value)) return "";
        if (value[0] is '=' or '+' or '-' or '@' or '\t' or '\r') value = "'" + value;
        return value.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? $"\"{value.Replace("\"", "\"\"")}\"" : value;
    }
}
