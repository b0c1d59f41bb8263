using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Steller.Application.EventStore;
using Steller.Infrastructure.Postgres;

namespace Steller.Projections.Chain;

public static class ChainRegistration
{
    /// <summary>The hash chain's reader, store and verifier (the sealer itself runs only where followers run).</summary>
    public static IServiceCollection AddLedgerChain(this IServiceCollection services)
    {
        services.AddSingleton<IChainLog>(sp => sp.GetRequiredService<IEventStore>() is PostgresEventStore
            ? new PostgresChainLog(sp.GetRequiredService<NpgsqlDataSource>())
            : new EventStoreChainLog(sp.GetRequiredService<IEventStore>()));
        // Seals are written on the pool whose sessions never append (they go to es.chain, not es.events): a sealing
        // transaction does not hold readers of the log back, and the sealer's lock shares the projections' leadership session.
        services.AddSingleton(sp => new ChainStore(sp.GetRequiredService<NoAppendDataSource>().DataSource));
        services.AddSingleton<ChainVerifier>();
        services.AddSingleton<ChainSealer>();
        return services;
    }
}
