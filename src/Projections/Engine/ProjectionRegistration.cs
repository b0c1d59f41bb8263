using Microsoft.Extensions.DependencyInjection;
using Steller.Projections.Streams;

namespace Steller.Projections.Engine;

public static class ProjectionRegistration
{
    /// <summary>The engine's services and every read model Steller ships.</summary>
    public static IServiceCollection AddStellerProjections(this IServiceCollection services)
    {
        services.AddSingleton<ProjectionStore>();
        services.AddSingleton<ProjectionRebuilder>();
        services.AddSingleton<ProjectionStatusReader>();
        services.AddSingleton(sp => sp.GetRequiredService<Infrastructure.Configuration.StellerSettings>().Projections);
        services.AddSingleton<IProjection, StreamStatsProjection>();
        services.AddSingleton<IProjection, Wallets.OpenHoldsProjection>();
        services.AddSingleton<IProjection, Wallets.TransferCompletion>();
        return services;
    }

    /// <summary>Runs the projections in this process (the API host does; the CLI does not).</summary>
    public static IServiceCollection AddProjectionRunner(this IServiceCollection services)
    {
        services.AddSingleton<ProjectionRunner>();
        services.AddHostedService(sp => sp.GetRequiredService<ProjectionRunner>());
        return services;
    }
}
