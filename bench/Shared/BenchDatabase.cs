using Npgsql;

namespace Steller.Bench;

/// <summary>What every bench does with its PostgreSQL: a fresh database of its own, and a line saying what it measured on.</summary>
public static class BenchDatabase
{
    /// <summary>Drops and creates <paramref name="name"/> through the admin connection string; returns its connection string.</summary>
    public static async Task<string> Fresh(string adminConnectionString, string name, int? maxPoolSize = null)
    {
        await using (var conn = new NpgsqlConnection(adminConnectionString))
        {
            await conn.OpenAsync();
            await new NpgsqlCommand($"drop database if exists {name} with (force)", conn).ExecuteNonQueryAsync();
            await new NpgsqlCommand($"create database {name}", conn).ExecuteNonQueryAsync();
        }
        var builder = new NpgsqlConnectionStringBuilder(adminConnectionString) { Database = name };
        if (maxPoolSize is { } max) builder.MaxPoolSize = max;
        return builder.ConnectionString;
    }

    /// <summary>"PostgreSQL 15.x, fsync=..., synchronous_commit=...": the durability a figure was measured with.</summary>
    public static async Task<string> Describe(NpgsqlDataSource dataSource)
    {
        await using var command = dataSource.CreateCommand(
            "select current_setting('server_version') || ', fsync=' || current_setting('fsync') || ', synchronous_commit=' || current_setting('synchronous_commit')");
        return $"PostgreSQL {await command.ExecuteScalarAsync()}";
    }
}
