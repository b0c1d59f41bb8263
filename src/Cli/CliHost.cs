using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Steller.Application;
using Steller.Infrastructure;
using Steller.Infrastructure.Configuration;
using Steller.Projections.Engine;

namespace Steller.Cli;

/// <summary>The services a CLI command needs, configured exactly like the API (without its HTTP parts).</summary>
public static class CliHost
{
    public const int ConfigurationError = 2;

    /// <summary>Builds the services, or prints one line naming the bad setting and returns null.</summary>
    public static ServiceProvider? Build(bool verbose = false)
    {
        var config = new ConfigurationBuilder()
            .AddStellerSources(Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT")
                ?? Environment.GetEnvironmentVariable("ASPNETCORE_ENVIRONMENT"))
            .Build();
        StellerSettings settings;
        try { settings = StellerSettings.Load(config); }
        catch (ConfigurationException e)
        {
            Console.Error.WriteLine($"steller: configuration error: {e.Message}");
            return null;
        }
        var services = new ServiceCollection();
        services.AddLogging(l => l.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; })
            .SetMinimumLevel(verbose ? LogLevel.Information : LogLevel.Warning)
            .AddFilter("Npgsql", LogLevel.Warning));
        services.AddStellerStorage(settings);
        services.AddStellerApplication();
        services.AddStellerProjections();
        return services.BuildServiceProvider();
    }
}
