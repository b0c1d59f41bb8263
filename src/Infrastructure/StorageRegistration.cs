using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Application.Time;
using Steller.Infrastructure.Configuration;
using Steller.Infrastructure.EventStoreDb;
using Steller.Infrastructure.Postgres;

namespace Steller.Infrastructure;

public static class StorageRegistration
{
    /// <summary>PostgreSQL (read models, checkpoints, and the default event store), migrations and the clock.</summary>
    public static IServiceCollection AddStellerStorage(this IServiceCollection services, StellerSettings settings)
    {
        services.AddSingleton(settings);
        services.AddSingleton(ShiftedClock.FromEnvironment());
        services.AddSingleton(sp => new NpgsqlDataSourceBuilder(PooledConnectionString(settings.Database.ConnectionString))
            .UseLoggerFactory(sp.GetRequiredService<ILoggerFactory>())
            .Build());
        // The read models', the chain's and the leadership locks' pool: its sessions never append, so readers of the log do
        // not wait for them. Quartz and everything that appends stay on the main pool.
        services.AddSingleton(sp => new NoAppendDataSource(
            new NpgsqlDataSourceBuilder(NoAppendDataSource.Mark(PooledConnectionString(settings.Database.ConnectionString)))
                .UseLoggerFactory(sp.GetRequiredService<ILoggerFactory>())
                .Build()));
        services.AddSingleton<Migrator>();
        services.AddSingleton<LogNotifications>();
        // Snapshots live in Steller's own PostgreSQL whichever store holds the events (docs/architecture.md, "Snapshots").
        services.AddSingleton(settings.Snapshots);
        services.AddSingleton<ISnapshotStore>(sp => new PostgresSnapshotStore(sp.GetRequiredService<NpgsqlDataSource>()));
        services.AddSingleton<IEventStore>(sp => settings.EventStore.Backend switch
        {
            EventStoreBackend.Postgres => new PostgresEventStore(sp.GetRequiredService<NpgsqlDataSource>(), sp.GetRequiredService<LogNotifications>(),
                new PostgresEventStoreOptions
                {
                    ListeningIdleWait = TimeSpan.FromMilliseconds(settings.Projections.IdlePollMilliseconds),
                    WakeLinger = TimeSpan.FromMilliseconds(settings.Projections.WakeLingerMilliseconds),
                }),
            // Events in EventStoreDB; read models, checkpoints and everything else stay in PostgreSQL.
            EventStoreBackend.EventStoreDB => CreateEventStoreDb(settings.EventStore, sp.GetRequiredService<ILoggerFactory>()),
            _ => throw new ConfigurationException($"EventStore:Backend {settings.EventStore.Backend} is not supported by this build."),
        });
        return services;
    }

    /// <summary>Statements kept prepared per connection (least recently used ones are unprepared past it).</summary>
    public const int AutoPreparedStatements = 32;

    /// <summary>
    /// Connections per pool (Steller has two) unless the connection string says otherwise: at overload, requests then queue in
    /// the pool rather than as runnable PostgreSQL backends, which on the 2-core bench machine answered 30–54 % more orders a
    /// second than Npgsql's default of 100 (docs/benchmarks.md). A node keeps only two sessions open for good (the LISTEN connection and the
    /// leadership session); everything else holds a connection for one statement or one short transaction.
    /// </summary>
    public const int MaxPoolSize = 30;

    /// <summary>
    /// The connection string with "No Reset On Close" on unless it says otherwise: a pooled connection is not reset with
    /// <c>DISCARD ALL</c> (one statement per connection use, a third of all statements of an order). Steller leaves no
    /// session state on a returned connection: it sets settings with <c>set local</c> only, releases its session advisory
    /// locks explicitly (<see cref="Postgres.Migrator"/>, the projection leadership lock), LISTENs on a connection it keeps,
    /// and Npgsql rolls back a transaction left open.
    /// <para>
    /// And with automatic preparation unless it says otherwise ("Max Auto Prepare"): a statement text used twice on a connection is
    /// prepared there, so PostgreSQL parses it once and, for the event store's reads and appends, plans it once (their generic plan
    /// is the custom one). Parsing and planning were most of a stream read's time (0.35 of 0.4 ms); with it PostgreSQL's CPU per
    /// order fell by half (docs/benchmarks.md). No statement of Steller's selects <c>*</c> from a view a rebuild replaces, so a
    /// prepared statement's result shape never changes under it.
    /// </para>
    /// <para>And with at most <see cref="MaxPoolSize"/> connections unless it says otherwise ("Maximum Pool Size").</para>
    /// </summary>
    public static string PooledConnectionString(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString }.Keys.Cast<string>()
            .Select(k => k.Replace(" ", "", StringComparison.Ordinal).ToLowerInvariant()).ToHashSet();
        if (!given.Contains("noresetonclose")) builder.NoResetOnClose = true;
        if (!given.Contains("maximumpoolsize") && !given.Contains("maxpoolsize")) builder.MaxPoolSize = Math.Max(MaxPoolSize, builder.MinPoolSize);
        if (!given.Contains("maxautoprepare"))
        {
            builder.MaxAutoPrepare = AutoPreparedStatements;
            builder.AutoPrepareMinUsages = 2;
        }
        return builder.ConnectionString;
    }

    private static EventStoreDbEventStore CreateEventStoreDb(EventStoreSettings settings, ILoggerFactory loggers)
    {
        var log = loggers.CreateLogger<EventStoreDbEventStore>();
        var connection = settings.EventStoreDb ?? EventStoreDbConnectionString.Parse(settings.ConnectionString);
        return new EventStoreDbEventStore(connection, new EventStoreDbOptions
        {
            StreamPrefixes = settings.StreamPrefixes,
            Logger = log,
            MaxAppendSizeBytes = settings.MaxAppendSizeBytes,
            // Above the largest event the server can hold (one event is at most one append).
            MaxReceiveMessageSize = Math.Max(16 * 1_048_576, settings.MaxAppendSizeBytes + 1_048_576),
            SubscriptionDropped = (error, delay) => log.LogWarning(
                "EventStoreDB subscription to $all dropped ({Error}); resubscribing after the last delivered event in {Delay} ms",
                error.Message, (int)delay.TotalMilliseconds),
        });
    }
}
