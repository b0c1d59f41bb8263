using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Steller.Infrastructure.Postgres;

namespace Steller.Cli;

/// <summary>steller analyst grant|revoke|list: PostgreSQL logins that can read schema "read" and nothing else.</summary>
public static class AnalystCommand
{
    public static Command Create()
    {
        var command = new Command("analyst", "PostgreSQL logins for analysts: read-only access to the documented read models (schema read, docs/read-models.md).");
        command.Subcommands.Add(Grant());
        command.Subcommands.Add(Revoke());
        command.Subcommands.Add(List());
        return command;
    }

    private static Argument<string> NameArgument() => new("NAME") { Description = $"The login's name ({AnalystRoles.NamePattern})." };

    private static Command Grant()
    {
        var name = NameArgument();
        var command = new Command("grant", "Create a login that can SELECT from every view in schema read (now and after rebuilds) and nothing else; "
                                           + "prints its password once.") { name };
        command.SetAction(async (parse, ct) =>
        {
            var n = parse.GetValue(name)!;
            if (AnalystRoles.Invalid(n) is { } why)
            {
                Console.Error.WriteLine($"steller: {why}.");
                return LedgerCommand.UsageError;
            }
            await using var services = CliHost.Build();
            if (services is null) return CliHost.ConfigurationError;
            await services.GetRequiredService<Migrator>().Migrate(ct);
            try
            {
                var granted = await new AnalystRoles(services.GetRequiredService<NpgsqlDataSource>()).Grant(n, ct);
                Console.WriteLine($"Analyst login '{granted.Name}' created. Password (shown once, not stored): {granted.Password}");
                return 0;
            }
            catch (Exception e) when (e is InvalidOperationException or PostgresException)
            {
                Console.Error.WriteLine($"steller: {e.Message}");
                return 1;
            }
        });
        return command;
    }

    private static Command Revoke()
    {
        var name = NameArgument();
        var command = new Command("revoke", "Remove an analyst login and its grants, ending its sessions.") { name };
        command.SetAction(async (parse, ct) =>
        {
            var n = parse.GetValue(name)!;
            if (AnalystRoles.Invalid(n) is { } why)
            {
                Console.Error.WriteLine($"steller: {why}.");
                return LedgerCommand.UsageError;
            }
            await using var services = CliHost.Build();
            if (services is null) return CliHost.ConfigurationError;
            try
            {
                if (await new AnalystRoles(services.GetRequiredService<NpgsqlDataSource>()).Revoke(n, ct))
                {
                    Console.WriteLine($"Analyst login '{n}' removed.");
                    return 0;
                }
                Console.Error.WriteLine($"steller: there is no analyst '{n}'.");
                return 1;
            }
            catch (Exception e) when (e is InvalidOperationException or PostgresException)
            {
                Console.Error.WriteLine($"steller: {e.Message}");
                return 1;
            }
        });
        return command;
    }

    private static Command List()
    {
        var command = new Command("list", "List the analyst logins.");
        command.SetAction(async (parse, ct) =>
        {
            await using var services = CliHost.Build();
            if (services is null) return CliHost.ConfigurationError;
            foreach (var (n, comment) in await new AnalystRoles(services.GetRequiredService<NpgsqlDataSource>()).List(ct))
                Console.WriteLine($"{n}\t{comment}");
            return 0;
        });
        return command;
    }
}
