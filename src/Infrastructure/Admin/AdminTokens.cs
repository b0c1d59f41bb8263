using System.Security.Cryptography;
using System.Text;
using Dapper;
using Npgsql;

namespace Steller.Infrastructure.Admin;

public static class AdminRoles
{
    public const string Admin = "admin", Finance = "finance", Support = "support", Analyst = "analyst";
    public static readonly IReadOnlyList<string> All = [Admin, Finance, Support, Analyst];
    public static bool IsKnown(string? role) => role is not null && All.Contains(role);
}

/// <summary>A token as listed: never its hash, never the token.</summary>
public sealed record AdminTokenInfo(Guid Id, string Name, string Role, DateTime CreatedAt, DateTime? RevokedAt, DateTime? LastUsedAt,
    DateTime? ExpiresAt = null);

/// <summary>Who a presented token belongs to.</summary>
public sealed record AdminPrincipal(Guid TokenId, string Name, string Role);

public sealed class AdminTokenException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;
}

/// <summary>
/// Admin bearer tokens: "stl_admin_" + 32 random bytes (base64url). Shown once at creation; only SHA-256 of the token is
/// stored (a high-entropy secret needs no slow hash), so a database leak gives no usable token.
/// </summary>
public sealed class AdminTokens(NpgsqlDataSource dataSource)
{
    public const string Prefix = "stl_admin_";
    public const int MaxNameLength = 100;
    /// <summary>The longest a token may live when it has an expiry (about two years).</summary>
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromDays(731);

    /// <summary>
    /// Creates a token; <paramref name="expiresAt"/> null: it never expires. A token whose expiry passed stops working and
    /// frees its name, as a revoked one does.
    /// </summary>
    public async Task<(AdminTokenInfo Info, string Token)> Create(string name, string role, DateTimeOffset now,
        DateTimeOffset? expiresAt = null, CancellationToken ct = default)
    {
        name = name.Trim();
        if (name.Length is 0 or > MaxNameLength || name.Any(char.IsControl))
            throw new AdminTokenException("invalid_name", $"A token name is 1 to {MaxNameLength} printable characters.");
        if (!AdminRoles.IsKnown(role))
            throw new AdminTokenException("invalid_role", $"Unknown role '{role}'; one of {string.Join(", ", AdminRoles.All)}.");
        if (expiresAt is { } expiry && (expiry <= now || expiry - now > MaxLifetime))
            throw new AdminTokenException("invalid_expiry", $"A token's expiry is in the future and at most {MaxLifetime.TotalDays:0} days away.");
        var token = Prefix + Base64Url(RandomNumberGenerator.GetBytes(32));
        var id = Guid.NewGuid();
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        try
        {
            await conn.ExecuteAsync(new CommandDefinition("""
                update steller.admin_tokens set revoked_at = expires_at
                 where name = @name and revoked_at is null and expires_at <= @now;
                insert into steller.admin_tokens (id, name, role, token_hash, created_at, expires_at)
                values (@id, @name, @role, @hash, @now, @expiresAt)
                """, new { id, name, role, hash = Hash(token), now = now.UtcDateTime, expiresAt = expiresAt?.UtcDateTime },
                cancellationToken: ct));
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            throw new AdminTokenException("name_taken", $"A live token named '{name}' exists; revoke it first or choose another name.");
        }
        return (new AdminTokenInfo(id, name, role, now.UtcDateTime, null, null, expiresAt?.UtcDateTime), token);
    }

    /// <summary>Revokes the live token with this name (or id). False when there is none.</summary>
    public async Task<bool> Revoke(string nameOrId, DateTimeOffset now, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var byId = Guid.TryParse(nameOrId, out var id);
        return await conn.ExecuteAsync(new CommandDefinition("""
            update steller.admin_tokens set revoked_at = @now
             where revoked_at is null and (name = @nameOrId or (@byId and id = @id))
            """, new { nameOrId, byId, id, now = now.UtcDateTime }, cancellationToken: ct)) > 0;
    }

    public async Task<IReadOnlyList<AdminTokenInfo>> List(CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<AdminTokenInfo>(new CommandDefinition("""
            select id as Id, name as Name, role as Role, created_at as CreatedAt, revoked_at as RevokedAt, last_used_at as LastUsedAt,
                   expires_at as ExpiresAt
              from steller.admin_tokens order by created_at, name
            """, cancellationToken: ct))).ToList();
    }

    /// <summary>The live token's owner, or null for an unknown, revoked or expired token. Marks it used (at most once a minute).</summary>
    public async Task<AdminPrincipal?> Find(string token, DateTimeOffset now, CancellationToken ct = default)
    {
        if (!token.StartsWith(Prefix, StringComparison.Ordinal) || token.Length > 200) return null;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.QuerySingleOrDefaultAsync<AdminPrincipal>(new CommandDefinition("""
            with found as (
                select id, name, role, last_used_at from steller.admin_tokens where token_hash = @hash and revoked_at is null
                   and (expires_at is null or expires_at > @now)
            ), touched as (
                update steller.admin_tokens t set last_used_at = @now
                  from found f where t.id = f.id and (f.last_used_at is null or f.last_used_at < @now - interval '1 minute')
            )
            select id as TokenId, name as Name, role as Role from found
            """, new { hash = Hash(token), now = now.UtcDateTime }, cancellationToken: ct));
    }

    public static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
