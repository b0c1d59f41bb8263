using System.Reflection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Steller.Infrastructure.Postgres;

/// <summary>
/// Applies the embedded SQL files under Postgres/Migrations in name order, each once, each in its own
/// transaction. An advisory lock lets several nodes (or the CLI and the API) start at the same time.
/// </summary>
public sealed class Migrator(NpgsqlDataSource dataSource, ILogger<Migrator> logger)
{
    /// <summary>The advisory lock migrations run under ("STELLER").</summary>
    public const long LockKey = 0x5354454C4C4552;

    public static IReadOnlyList<(string Id, string Sql)> Scripts { get; } = LoadScripts();

    /// <summary>Attempts at most when the server ends the migration's session (SQLSTATE class 57P).</summary>
    public const int MaxAttempts = 5;

    /// <summary>
    /// Applies what is missing; returns the ids applied now (empty when already up to date). A session the server ends
    /// under it (an administrator's pg_terminate_backend, a shutdown or failover: SQLSTATE class 57P) is tried again on a
    /// new connection, up to <see cref="MaxAttempts"/> times: each migration commits with its mark, so a new attempt
    /// applies only what is still missing. A server that cannot be reached fails at once.
    /// </summary>
    public async Task<IReadOnlyList<string>> Migrate(CancellationToken ct = default)
    {
        var done = new List<string>();
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await MigrateOnce(done, ct);
                return done;
            }
            catch (PostgresException e) when (e.SqlState.StartsWith("57P", StringComparison.Ordinal) && attempt < MaxAttempts)
            {
                logger.LogWarning("The database ended the migration's session ({SqlState}: {Message}); trying again ({Attempt} of {Max})",
                    e.SqlState, e.MessageText, attempt + 1, MaxAttempts);
                await Task.Delay(TimeSpan.FromMilliseconds(250 * attempt), ct);
            }
        }
    }

    private async Task MigrateOnce(List<string> done, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await Exec(conn, null, $"select pg_advisory_lock({LockKey})", ct);
        try
        {
            await Exec(conn, null, """
                create schema if not exists steller;
                create table if not exists steller.schema_migrations (id text primary key, applied_at timestamptz not null default now());
                """, ct);
            var applied = new HashSet<string>();
            await using (var cmd = new NpgsqlCommand("select id from steller.schema_migrations", conn))
            await using (var reader = await cmd.ExecuteReaderAsync(ct))
                while (await reader.ReadAsync(ct)) applied.Add(reader.GetString(0));

            foreach (var (id, sql) in Scripts.Where(s => !applied.Contains(s.Id)))
            {
                await using var tx = await conn.BeginTransactionAsync(ct);
                await Exec(conn, tx, sql, ct);
                await using (var mark = new NpgsqlCommand("insert into steller.schema_migrations (id) values ($1)", conn, tx))
                {
                    mark.Parameters.AddWithValue(id);
                    await mark.ExecuteNonQueryAsync(ct);
                }
                await tx.CommitAsync(ct);
                logger.LogInformation("Applied migration {Migration}", id);
                done.Add(id);
            }
        }
        finally
        {
            // A session the server ended holds no lock any more; its error is the one to report.
            if (conn.State == System.Data.ConnectionState.Open)
                try { await Exec(conn, null, $"select pg_advisory_unlock({LockKey})", CancellationToken.None); }
                catch (NpgsqlException) { }
        }
    }

    /// <summary>Ids of the embedded migrations not yet applied (for readiness checks).</summary>
    public async Task<IReadOnlyList<string>> Pending(CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var cmd = new NpgsqlCommand("select coalesce(array_agg(id), '{}') from steller.schema_migrations", conn);
        string[] applied;
        try { applied = (string[])(await cmd.ExecuteScalarAsync(ct))!; }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable) { applied = []; }
        return Scripts.Select(s => s.Id).Except(applied).ToList();
    }

    private static async Task Exec(NpgsqlConnection conn, NpgsqlTransaction? tx, string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, conn, tx);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private static IReadOnlyList<(string, string)> LoadScripts()
    {
        var asm = typeof(Migrator).Assembly;
        const string marker = ".Postgres.Migrations.";
        return asm.GetManifestResourceNames()
            .Where(n => n.Contains(marker) && n.EndsWith(".sql"))
            .OrderBy(n => n, StringComparer.Ordinal)
            .Select(n =>
            {
                using var s = asm.GetManifestResourceStream(n)!;
                using var r = new StreamReader(s);
                var id = n[(n.IndexOf(marker, StringComparison.Ordinal) + marker.Length)..^".sql".Length];
                return (id, r.ReadToEnd());
            })
            .ToList();
    }
}
