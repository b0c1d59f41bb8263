using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Steller.Infrastructure.Postgres;

namespace Steller.Testing;

/// <summary>
/// A brand-new, migrated database on the test cluster that ./test.sh starts (STELLER_TEST_DATABASE points at its
/// "postgres" database). Each fixture gets its own, so test assemblies can run side by side. Dropped on dispose.
/// </summary>
public sealed class TestDatabase : IAsyncDisposable
{
    public const string Variable = "STELLER_TEST_DATABASE";

    private TestDatabase(string name, string connectionString)
    {
        Name = name;
        ConnectionString = connectionString;
        DataSource = NpgsqlDataSource.Create(connectionString);
    }

    public string Name { get; }
    public string ConnectionString { get; }
    public NpgsqlDataSource DataSource { get; }

    public static string AdminConnectionString =>
        Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } cs ? cs
        : throw new InvalidOperationException(
            $"{Variable} is not set. Run the tests with ./test.sh, which starts a private PostgreSQL and sets it, " +
            "or point it at a server where you may create databases (e.g. Host=127.0.0.1;Port=55433;Username=steller;Database=postgres).");

    public static async Task<TestDatabase> Create(string purpose, bool migrate = true)
    {
        var name = $"t_{new string(purpose.ToLowerInvariant().Where(char.IsAsciiLetterOrDigit).Take(30).ToArray())}_{Guid.NewGuid():N}"[..^16];
        await using (var admin = new NpgsqlConnection(AdminConnectionString))
        {
            await admin.OpenAsync();
            await using var cmd = new NpgsqlCommand($"create database {name}", admin);
            await cmd.ExecuteNonQueryAsync();
        }
        var cs = new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name, MaxPoolSize = 200 }.ConnectionString;
        var db = new TestDatabase(name, cs);
        if (migrate) await new Migrator(db.DataSource, NullLogger<Migrator>.Instance).Migrate();
        return db;
    }

    public PostgresEventStore CreateEventStore(PostgresEventStoreOptions? options = null) =>
        new(DataSource, new LogNotifications(DataSource, NullLogger<LogNotifications>.Instance), options);

    public async Task<T?> Scalar<T>(string sql)
    {
        await using var cmd = DataSource.CreateCommand(sql);
        var value = await cmd.ExecuteScalarAsync();
        return value is DBNull or null ? default : (T)Convert.ChangeType(value, typeof(T));
    }

    /// <summary>Every table and view outside the system schemas, as quoted "schema"."name": for scans that must find nothing.</summary>
    public async Task<IReadOnlyList<string>> TablesAndViews()
    {
        var list = new List<string>();
        await using var cmd = DataSource.CreateCommand("""
            select format('%I.%I', table_schema, table_name) from information_schema.tables
            where table_schema not in ('pg_catalog', 'information_schema') and table_type in ('BASE TABLE', 'VIEW')
            """);
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync()) list.Add(reader.GetString(0));
        return list;
    }

    public async ValueTask DisposeAsync()
    {
        await DataSource.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        try
        {
            await using var admin = new NpgsqlConnection(AdminConnectionString);
            await admin.OpenAsync();
            await using var cmd = new NpgsqlCommand($"drop database if exists {Name} with (force)", admin);
            await cmd.ExecuteNonQueryAsync();
        }
        catch (NpgsqlException) { /* the cluster is going away with the run */ }
    }
}
