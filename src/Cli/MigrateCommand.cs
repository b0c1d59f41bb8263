using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Steller.Infrastructure.Postgres;

namespace Steller.Cli;

public static class MigrateCommand
{
    public static Command Create()
    {
        var command = new Command("migrate", "Apply the database migrations that are missing (running it twice is a no-op).");
        command.SetAction(async (_, ct) =>
        {
            await using var services = CliHost.Build();
            if (services is null) return CliHost.ConfigurationError;
            var applied = await services.GetRequiredService<Migrator>().Migrate(ct);
            Console.WriteLine(applied.Count == 0 ? "Database is up to date; nothing to apply."
                : $"Applied {applied.Count} migration(s): {string.Join(", ", applied)}");
            return 0;
        });
        return command;
    }
}
