using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Spectre.Console;
using Steller.Application.Time;
using Steller.Infrastructure.Admin;
using Steller.Infrastructure.Postgres;

namespace Steller.Cli;

/// <summary>steller admin token create|revoke|list: bearer tokens of the /admin API.</summary>
public static class AdminCommand
{
    public static Command Create()
    {
        var tokens = new Command("token", "Admin API bearer tokens (roles admin, finance, support, analyst). Only a hash is stored.");
        tokens.Subcommands.Add(CreateToken());
        tokens.Subcommands.Add(Revoke());
        tokens.Subcommands.Add(List());
        var command = new Command("admin", "Administration of the admin API.");
        command.Subcommands.Add(tokens);
        return command;
    }

    private static async Task<(ServiceProvider, AdminTokens, IClock)?> Open(CancellationToken ct)
    {
        var services = CliHost.Build();
        if (services is null) return null;
        await services.GetRequiredService<Migrator>().Migrate(ct);
        return (services, new AdminTokens(services.GetRequiredService<NpgsqlDataSource>()), services.GetRequiredService<IClock>());
    }

    private static Command CreateToken()
    {
        var role = new Option<string>("--role") { Description = $"One of {string.Join(", ", AdminRoles.All)}.", Required = true };
        role.AcceptOnlyFromAmong([.. AdminRoles.All]);
        var name = new Option<string>("--name") { Description = "Who holds the token (the actor in the audit), e.g. alice@finance.",
            Required = true };
        var expires = new Option<int?>("--expires-in-days") { Description = "The token stops working after this many days "
            + $"(1–{(int)AdminTokens.MaxLifetime.TotalDays}); without it, it works until revoked." };
        var command = new Command("create", "Create a token and print it once (it cannot be shown again).") { role, name, expires };
        command.SetAction(async (parse, ct) =>
        {
            if (await Open(ct) is not var (services, tokens, clock)) return CliHost.ConfigurationError;
            await using var _ = services;
            try
            {
                var now = clock.UtcNow;
                var (info, token) = await tokens.Create(parse.GetValue(name)!, parse.GetValue(role)!, now,
                    parse.GetValue(expires) is { } days ? now.AddDays(days) : null, ct);
                Console.Error.WriteLine($"Created admin token {info.Id} for {info.Name} with role {info.Role}. It is shown once; "
                    + $"store it now:");
                Console.WriteLine(token);
                return 0;
            }
            catch (AdminTokenException e)
            {
                Console.Error.WriteLine($"steller: {e.Message}");
                return 1;
            }
        });
        return command;
    }

    private static Command Revoke()
    {
        var which = new Argument<string>("name-or-id") { Description = "The token's name or id (see `steller admin token list`)." };
        var command = new Command("revoke", "Revoke a token: it stops working at once.") { which };
        command.SetAction(async (parse, ct) =>
        {
            if (await Open(ct) is not var (services, tokens, clock)) return CliHost.ConfigurationError;
            await using var _ = services;
            var target = parse.GetValue(which)!;
            if (await tokens.Revoke(target, clock.UtcNow, ct))
            {
                Console.WriteLine($"Revoked {target}.");
                return 0;
            }
            Console.Error.WriteLine($"steller: no live admin token named '{target}'.");
            return 1;
        });
        return command;
    }

    private static Command List()
    {
        var command = new Command("list", "List tokens: id, name, role, created, last used, expires, revoked. Never the token or its hash.");
        command.SetAction(async (_, ct) =>
        {
            if (await Open(ct) is not var (services, tokens, _)) return CliHost.ConfigurationError;
            await using var __ = services;
            var table = new Table().AddColumns("id", "name", "role", "created", "last used", "expires", "revoked");
            foreach (var t in await tokens.List(ct))
                table.AddRow(t.Id.ToString(), Markup.Escape(t.Name), t.Role, t.CreatedAt.ToString("u"), t.LastUsedAt?.ToString("u") ?? "-",
                    t.ExpiresAt?.ToString("u") ?? "-", t.RevokedAt is { } r ? $"[red]{r:u}[/]" : "-");
            AnsiConsole.Write(table);
            return 0;
        });
        return command;
    }
}
