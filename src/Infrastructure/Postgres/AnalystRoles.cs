using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Npgsql;

namespace Steller.Infrastructure.Postgres;

/// <summary>
/// PostgreSQL logins for analysts: SELECT on schema "read" (every view there now and every view created later, so
/// side-by-side rebuilds keep the grant) and nothing else: no "es", no "steller", no secrets or tokens. The views read
/// their read_vN tables with their owner's rights, so analysts need no grant there either.
/// </summary>
public sealed partial class AnalystRoles(NpgsqlDataSource dataSource)
{
    /// <summary>What a valid analyst name looks like: a lower-case PostgreSQL identifier, 3 to 40 characters.</summary>
    public const string NamePattern = "^[a-z][a-z0-9_]{2,39}$";

    [GeneratedRegex(NamePattern)]
    private static partial Regex NameRegex();

    /// <summary>Null when <paramref name="name"/> is acceptable; otherwise why not.</summary>
    public static string? Invalid(string? name) =>
        name is null || !NameRegex().IsMatch(name) ? $"an analyst name is 3 to 40 characters: a lower-case letter, then lower-case letters, digits or '_' ({NamePattern})"
        : name.StartsWith("pg_", StringComparison.Ordinal) ? "names starting with pg_ are reserved by PostgreSQL"
        : name is "steller" or "postgres" or "public" ? $"'{name}' is reserved"
        : null;

    private const string Marker = "steller analyst";

    public sealed record Granted(string Name, string Password);

    /// <summary>Creates the login with a new random password (returned once, never stored) and grants it read access.</summary>
    public async Task<Granted> Grant(string name, CancellationToken ct)
    {
        if (Invalid(name) is { } why) throw new ArgumentException(why, nameof(name));
        var password = Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)).Replace('+', '-').Replace('/', '_').TrimEnd('=');
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        if (await RoleComment(conn, tx, name, ct) is { } existing)
            throw new InvalidOperationException(existing.StartsWith(Marker, StringComparison.Ordinal)
                ? $"analyst '{name}' exists already; revoke it first to issue a new password"
                : $"a PostgreSQL role '{name}' exists and is not a Steller analyst");
        var db = await Scalar<string>(conn, tx, "select current_database()", ct);
        // The name matched the identifier pattern and the password is base64url: both are safe inside the quotes.
        await Exec(conn, tx, $"""
            create role "{name}" login password '{password}' nosuperuser nocreatedb nocreaterole noinherit noreplication nobypassrls
                connection limit 10;
            comment on role "{name}" is '{Marker} of database {db.Replace("'", "''")}';
            grant connect on database "{db.Replace("\"", "\"\"")}" to "{name}";
            grant usage on schema read to "{name}";
            grant select on all tables in schema read to "{name}";
            alter default privileges in schema read grant select on tables to "{name}";
            """, ct);
        await tx.CommitAsync(ct);
        return new Granted(name, password);
    }

    /// <summary>Removes an analyst's grants and login (and ends its sessions). False when there is no such analyst.</summary>
    public async Task<bool> Revoke(string name, CancellationToken ct)
    {
        if (Invalid(name) is { } why) throw new ArgumentException(why, nameof(name));
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var comment = await RoleComment(conn, tx, name, ct);
        if (comment is null) return false;
        if (!comment.StartsWith(Marker, StringComparison.Ordinal))
            throw new InvalidOperationException($"the PostgreSQL role '{name}' is not a Steller analyst; it is left alone");
        await Exec(conn, tx, $"""
            alter default privileges in schema read revoke select on tables from "{name}";
            drop owned by "{name}";
            drop role "{name}";
            """, ct);
        await tx.CommitAsync(ct);
        await using var end = new NpgsqlCommand("select count(pg_terminate_backend(pid)) from pg_stat_activity where usename = $1", conn);
        end.Parameters.AddWithValue(name);
        await end.ExecuteScalarAsync(ct);
        return true;
    }

    /// <summary>Every analyst login of this cluster (name and the database it was made for).</summary>
    public async Task<IReadOnlyList<(string Name, string Comment)>> List(CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand("""
            select r.rolname, d.description from pg_roles r join pg_shdescription d on d.objoid = r.oid
            where d.description like 'steller analyst%' order by r.rolname
            """);
        var list = new List<(string, string)>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct)) list.Add((r.GetString(0), r.GetString(1)));
        return list;
    }

    /// <summary>The role's comment; "" for a role without one; null when there is no such role.</summary>
    private static async Task<string?> RoleComment(NpgsqlConnection conn, NpgsqlTransaction tx, string name, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(
            "select coalesce(shobj_description(oid, 'pg_authid'), '') from pg_roles where rolname = $1", conn, tx);
        cmd.Parameters.AddWithValue(name);
        return (string?)await cmd.ExecuteScalarAsync(ct);
    }

    private static async Task<T> Scalar<T>(NpgsqlConnection conn, NpgsqlTransaction tx, string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, conn, tx);
        return (T)(await cmd.ExecuteScalarAsync(ct))!;
    }

    private static async Task Exec(NpgsqlConnection conn, NpgsqlTransaction tx, string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, conn, tx);
        await cmd.ExecuteNonQueryAsync(ct);
    }
}
