using Npgsql;

namespace Steller.Infrastructure.Postgres;

/// <summary>
/// A second connection pool to Steller's PostgreSQL whose sessions declare that they never append to the event log
/// (application_name "steller-no-append:…"; migration 0021 refuses an insert into es.events from one). Readers of the log
/// do not wait for the transactions these sessions run (<see cref="PostgresEventStore.Horizon"/>): the read models'
/// batch transactions and Quartz's trigger transactions, which are the long ones, no longer delay every follower of the
/// log. Work that appends, or may append, stays on the process's main data source.
/// </summary>
public sealed class NoAppendDataSource(NpgsqlDataSource dataSource) : IAsyncDisposable
{
    public const string ApplicationNamePrefix = "steller-no-append";

    public NpgsqlDataSource DataSource { get; } = dataSource;

    /// <summary>The same connection string with its application name marked (what it was named stays readable after the colon).</summary>
    public static string Mark(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (builder.ApplicationName?.StartsWith(ApplicationNamePrefix, StringComparison.Ordinal) != true)
            builder.ApplicationName = $"{ApplicationNamePrefix}:{builder.ApplicationName ?? "steller"}";
        return builder.ConnectionString;
    }

    public ValueTask DisposeAsync() => DataSource.DisposeAsync();
}
