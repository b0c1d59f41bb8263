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
