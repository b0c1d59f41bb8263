using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Steller.Infrastructure.Configuration;

namespace Steller.Projections.Engine;

/// <summary>Hosts one <see cref="ProjectionWorker"/> per registered projection for the life of the process.</summary>
public sealed class ProjectionRunner(IServiceProvider services, IEnumerable<IProjection> projections, StellerSettings settings) : BackgroundService
{
    public IReadOnlyList<ProjectionWorker> Workers { get; } = projections
        .Select(p => ActivatorUtilities.CreateInstance<ProjectionWorker>(services, p))
        .ToList();

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        settings.Projections.Enabled
            ? Task.WhenAll(Workers.Select(w => Task.Run(() => w.Run(stoppingToken), CancellationToken.None)))
            : Task.CompletedTask;
}
