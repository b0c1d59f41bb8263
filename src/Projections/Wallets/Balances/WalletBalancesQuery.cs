using Dapper;
using Npgsql;

namespace Steller.Projections.Wallets.Balances;

/// <summary>A partner's wallet in one currency, from read.wallet_balances. Amounts are minor units.</summary>
public sealed record WalletBalance(
    string PartnerId,
    string Currency,
    string Account,
    long Posted,
    long Pending,
    long Available,
    long CreditLimit,
    bool Frozen,
    long Revision,
    DateTime UpdatedAt)
{
    /// <summary>What a new debit may take: available plus the credit limit.</summary>
    public long Spendable => Available + CreditLimit;
}

public sealed record WalletPage(IReadOnlyList<WalletBalance> Items, string? Next);

/// <summary>
/// Wallet balances of one partner. Serves GET /admin/partners/{partnerId}/wallets and, once partner signing exists,
/// GET /v1/wallets (pass the authenticated partner's id: a partner only ever sees its own wallets).
/// </summary>
public sealed class WalletBalancesQuery(NpgsqlDataSource dataSource)
{
    private const string Select = """
        select partner_id as PartnerId, currency as Currency, account as Account, posted as Posted, pending as Pending,
               available as Available, credit_limit as CreditLimit, frozen as Frozen, coalesce(last_revision, -1) as Revision,
               updated_at as UpdatedAt
          from read.wallet_balances
        """;

    public async Task<IReadOnlyList<WalletBalance>> ForPartner(string partnerId, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        try
        {
            return (await conn.QueryAsync<WalletBalance>(new CommandDefinition(
                $"{Select} where partner_id = @partnerId order by currency", new { partnerId }, cancellationToken: ct))).ToList();
        }
        catch (Exception e) when (ReadModelNotReadyException.Is(e)) { throw new ReadModelNotReadyException("read.wallet_balances", e); }
    }

    public const int DefaultLimit = 100, MaxLimit = 1_000;
    private const string CursorPrefix = "w:";

    public static string Cursor(WalletBalance w) => Inventory.OpaqueCursor.Encode($"{CursorPrefix}{w.PartnerId}/{w.Currency}");

    public static bool TryCursor(string? cursor, out (string PartnerId, string Currency)? after)
    {
        after = null;
        if (cursor is null) return true;
        if (!Inventory.OpaqueCursor.TryDecode(cursor, out var text) || !text.StartsWith(CursorPrefix, StringComparison.Ordinal)) return false;
        var slash = text.LastIndexOf('/');
        if (slash <= CursorPrefix.Length || slash == text.Length - 1) return false;
        after = (text[CursorPrefix.Length..slash], text[(slash + 1)..]);
        return true;
    }

    /// <summary>
    /// Every partner's wallets (GET /admin/wallets), by partner then currency; <paramref name="below"/> keeps wallets whose
    /// available balance (posted − pending, minor units) is below it.
    /// </summary>
    public async Task<WalletPage> Page(string? currency, long? below, int limit, (string PartnerId, string Currency)? after,
        CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        try
        {
            var rows = (await conn.QueryAsync<WalletBalance>(new CommandDefinition($"""
                {Select}
                 where partner_id is not null
                   and (@currency::text is null or currency = @currency)
                   and (@below::bigint is null or available < @below)
                   and (@afterPartner::text is null or (partner_id, currency) > (@afterPartner, @afterCurrency))
                 order by partner_id, currency
                 limit @take
                """, new { currency, below, afterPartner = after?.PartnerId, afterCurrency = after?.Currency, take = limit + 1 },
                cancellationToken: ct))).ToList();
            return new WalletPage(rows.Take(limit).ToList(), rows.Count > limit ? Cursor(rows[limit - 1]) : null);
        }
        catch (Exception e) when (ReadModelNotReadyException.Is(e)) { throw new ReadModelNotReadyException("read.wallet_balances", e); }
    }

    /// <summary>One wallet, or null when the partner has no wallet in this currency.</summary>
    public async Task<WalletBalance?> One(string partnerId, string currency, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        try
        {
            return await conn.QuerySingleOrDefaultAsync<WalletBalance>(new CommandDefinition(
                $"{Select} where partner_id = @partnerId and currency = @currency", new { partnerId, currency }, cancellationToken: ct));
        }
        catch (Exception e) when (ReadModelNotReadyException.Is(e)) { throw new ReadModelNotReadyException("read.wallet_balances", e); }
    }
}
