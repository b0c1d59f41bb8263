using Npgsql;
using Steller.Application.Partners.AuthenticatingRequests;

namespace Steller.Infrastructure.Postgres;

/// <summary>
/// steller.signature_nonces: an insert that hits the primary key of a live row is a replay. A row whose window has
/// passed but was not pruned yet is taken over (the old request could no longer be accepted anyway).
/// </summary>
public sealed class PostgresNonceLedger(NpgsqlDataSource db) : INonceLedger
{
    public async Task<bool> TryRecord(string keyId, string nonce, DateTimeOffset expiresAt, CancellationToken ct = default)
    {
        await using var cmd = db.CreateCommand("""
            insert into steller.signature_nonces (key_id, nonce, expires_at) values ($1, $2, $3)
            on conflict (key_id, nonce) do update set expires_at = excluded.expires_at
                where steller.signature_nonces.expires_at < now()
            returning 1
            """);
        cmd.Parameters.AddWithValue(keyId);
        cmd.Parameters.AddWithValue(nonce);
        cmd.Parameters.AddWithValue(expiresAt.UtcDateTime);
        return await cmd.ExecuteScalarAsync(ct) is not null;
    }

    public async Task<int> Prune(CancellationToken ct = default)
    {
        await using var cmd = db.CreateCommand("delete from steller.signature_nonces where expires_at < now()");
        return await cmd.ExecuteNonQueryAsync(ct);
    }
}
