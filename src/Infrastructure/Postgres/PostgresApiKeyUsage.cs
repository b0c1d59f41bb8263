using System.Collections.Concurrent;
using Npgsql;
using NpgsqlTypes;
using Steller.Application.Partners.AuthenticatingRequests;

namespace Steller.Infrastructure.Postgres;

/// <summary>
/// steller.api_key_usage, written coalesced: <see cref="Touch"/> keeps the latest time per key in memory and
/// <see cref="Flush"/> (every Partners:KeyUsageFlushSeconds, and at shutdown) writes every noted key in one upsert that
/// only ever moves a key's time forward, so nodes flushing in any order agree.
/// </summary>
public sealed class PostgresApiKeyUsage(NpgsqlDataSource db) : IApiKeyUsage
{
    private ConcurrentDictionary<string, (string PartnerId, DateTimeOffset At)> pending = new(StringComparer.Ordinal);

    public void Touch(string partnerId, string keyId, DateTimeOffset at) =>
        pending.AddOrUpdate(keyId, (partnerId, at), (_, old) => old.At >= at ? old : (partnerId, at));

    public async Task<IReadOnlyDictionary<string, DateTimeOffset>> LastUsed(string partnerId, CancellationToken ct = default)
    {
        var result = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        await using (var cmd = db.CreateCommand("select key_id, last_used_at from steller.api_key_usage where partner_id = $1"))
        {
            cmd.Parameters.AddWithValue(partnerId);
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                result[reader.GetString(0)] = new DateTimeOffset(reader.GetDateTime(1), TimeSpan.Zero);
        }
        foreach (var (keyId, (owner, at)) in pending)
            if (owner == partnerId && (!result.TryGetValue(keyId, out var stored) || stored < at)) result[keyId] = at;
        return result;
    }

    /// <summary>Writes every noted key in one statement; returns how many. A failed write puts the notes back for the next flush.</summary>
    public async Task<int> Flush(CancellationToken ct = default)
    {
        var taken = Interlocked.Exchange(ref pending, new ConcurrentDictionary<string, (string PartnerId, DateTimeOffset At)>(StringComparer.Ordinal));
        if (taken.IsEmpty) return 0;
        var rows = taken.ToArray();
        try
        {
            await using var cmd = db.CreateCommand("""
                insert into steller.api_key_usage (key_id, partner_id, last_used_at)
                select * from unnest($1::text[], $2::text[], $3::timestamptz[])
                on conflict (key_id) do update set last_used_at = greatest(steller.api_key_usage.last_used_at, excluded.last_used_at)
                """);
            cmd.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => r.Key).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            cmd.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => r.Value.PartnerId).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            cmd.Parameters.Add(new NpgsqlParameter
                { Value = rows.Select(r => r.Value.At.UtcDateTime).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
            await cmd.ExecuteNonQueryAsync(ct);
            return rows.Length;
        }
        catch
        {
            foreach (var (keyId, (partnerId, at)) in rows) Touch(partnerId, keyId, at);
            throw;
        }
    }
}
