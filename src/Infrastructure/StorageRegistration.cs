using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using Steller.Application.EventStore;
using Steller.Application.Time;
using Steller.Infrastructure.Configuration;
using Steller.Infrastructure.Postgres;

namespace Steller.Infrastructure;

public static class StorageRegistration
{
    /// <summary>PostgreSQL (read models, checkpoints, and the default event store), migrations and the clock.</summary>
    public static IServiceCollection AddStellerStorage(this IServiceCollection services, StellerSettings settings)
    {
        services.AddSingleton(settings);
        services.AddSingleton<IClock, SystemClock>();
        services.AddSingleton(sp => new NpgsqlDataSourceBuilder(settings.Database.ConnectionString)
            .UseLoggerFactory(sp.GetRequiredService<ILoggerFactory>())
            .Build());
        services.AddSingleton<Migrator>();
        services.AddSingleton<LogNotifications>();
        services.AddSingleton<IEventStore>(sp => settings.EventStore.Backend switch
        {
            EventStoreBackend.Postgres => new PostgresEventStore(sp.GetRequiredService<NpgsqlDataSource>(), sp.GetRequiredService<LogNotifications>()),
            _ => throw new ConfigurationException($"EventStore:Backend {settings.EventStore.Backend} is not supported by this build."),
        });
        return services;
    }
}
