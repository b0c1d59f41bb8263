using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Spectre.Console;
using Steller.Infrastructure.Postgres;
using Steller.Projections.Engine;

namespace Steller.Cli;

public static class ProjectionsCommand
{
    public static Command Create()
    {
        var command = new Command("projections", "Read-model projections: status, rebuild, run, parked events.");
        command.Subcommands.Add(Status());
        command.Subcommands.Add(Rebuild());
        command.Subcommands.Add(Run());
        command.Subcommands.Add(Parked());
        command.Subcommands.Add(Retry());
        return command;
    }

    private static Command Parked()
    {
        var projection = new Option<string>("--projection") { Description = "Only this projection's parked events." };
        var command = new Command("parked",
            "List the events projections could not apply and parked to go on (steller.projection_parked). Exits 1 when any is parked.")
            { projection };
        command.SetAction(async (parse, ct) =>
        {
            await using var services = CliHost.Build();
            if (services is null) return CliHost.ConfigurationError;
            await services.GetRequiredService<Migrator>().Migrate(ct);
            var parked = await services.GetRequiredService<ProjectionStore>().Parked(parse.GetValue(projection), ct);
            var table = new Table().AddColumns("projection", "position", "event id", "stream", "type", "attempts", "parked at", "error");
            foreach (var p in parked)
                table.AddRow(Markup.Escape(p.Projection), p.Position.ToString(), p.EventId.ToString(), Markup.Escape($"{p.StreamId}@{p.Revision}"),
                    Markup.Escape(p.Type), p.Attempts.ToString(), p.ParkedAt.ToString("u"), Markup.Escape(p.Error));
            AnsiConsole.Write(table);
            Console.WriteLine(parked.Count == 0 ? "No parked events."
                : $"{parked.Count} parked event(s). After fixing the cause, `steller projections retry` applies them again.");
            return parked.Count == 0 ? 0 : 1;
        });
        return command;
    }

    private static Command Retry()
    {
        var projection = new Option<string>("--projection") { Description = "Only this projection's parked events." };
        var command = new Command("retry",
            "Apply the parked events again, oldest first; each one that applies is removed. Exits 1 when some are still parked.")
            { projection };
        command.SetAction(async (parse, ct) =>
        {
            await using var services = CliHost.Build();
            if (services is null) return CliHost.ConfigurationError;
            await services.GetRequiredService<Migrator>().Migrate(ct);
            var result = await services.GetRequiredService<ParkedEventRetry>().Retry(parse.GetValue(projection), ct);
            Console.WriteLine($"{result.Applied} parked event(s) applied and removed; {result.StillParked.Count} still parked.");
            foreach (var p in result.StillParked)
                Console.WriteLine($"PARKED {p.Projection} {p.Type} {p.EventId} ({p.StreamId}@{p.Revision}, position {p.Position}): {p.Error}");
            return result.StillParked.Count == 0 ? 0 : 1;
        });
        return command;
    }

    private static Command Status()
    {
        var command = new Command("status", "Show each projection's position, lag in events and seconds, and state.");
        command.SetAction(async (_, ct) =>
        {
            await using var services = CliHost.Build();
            if (services is null) return CliHost.ConfigurationError;
            await services.GetRequiredService<Migrator>().Migrate(ct);
            var rows = await services.GetRequiredService<ProjectionStatusReader>().Read(ct);
            var table = new Table().AddColumns("projection", "version (code/db)", "generation", "position", "applied", "behind", "lag (s)",
                "state", "on poison", "parked", "error");
            foreach (var r in rows)
                table.AddRow(
                    Markup.Escape(r.Name), $"{r.CodeVersion}/{r.StoredVersion?.ToString() ?? "-"}",
                    r.Generation is { } g ? $"read_v{g}" + (r.RebuildingGeneration is { } n ? $" (building read_v{n})" : "") : "-",
                    r.Position, r.EventsApplied.ToString("N0"), r.EventsBehind?.ToString("N0") ?? "?", r.LagSeconds?.ToString("0.0") ?? "?",
                    r.State switch { "live" => "[green]live[/]", "stopped" => "[red]stopped[/]", var s => Markup.Escape(s) },
                    r.Policy, r.Parked == 0 ? "0" : $"[yellow]{r.Parked:N0}[/]", Markup.Escape(r.Error ?? ""));
            AnsiConsole.Write(table);
            var stopped = rows.Where(r => r.State == "stopped").Select(r => r.Name).ToList();
            var parked = rows.Where(r => r.Parked > 0).ToList();
            if (stopped.Count > 0) Console.WriteLine($"Stopped: {string.Join(", ", stopped)}.");
            if (parked.Count > 0)
                Console.WriteLine($"Parked events: {string.Join(", ", parked.Select(r => $"{r.Name} {r.Parked:N0}"))} "
                    + "(`steller projections parked` lists them).");
            return stopped.Count > 0 ? 1 : 0;
        });
        return command;
    }

    private static Command Rebuild()
    {
        var name = new Argument<string>("name") { Description = "The projection to rebuild (see `steller projections status`)." };
        var command = new Command("rebuild",
            "Build the next version of a projection from position zero beside the live one, catch up, swap the read views in one "
                + "transaction and drop the old version.");
        command.Arguments.Add(name);
        command.SetAction(async (parse, ct) =>
        {
            await using var services = CliHost.Build();
            if (services is null) return CliHost.ConfigurationError;
            var projectionName = parse.GetValue(name)!;
            var projection = services.GetServices<IProjection>().FirstOrDefault(p => p.Name == projectionName);
            if (projection is null)
            {
                Console.Error.WriteLine($"steller: no projection named '{projectionName}'. Known: "
                    + $"{string.Join(", ", services.GetServices<IProjection>().Select(p => p.Name))}");
                return 1;
            }
            await services.GetRequiredService<Migrator>().Migrate(ct);
            var rebuilder = services.GetRequiredService<ProjectionRebuilder>();
            RebuildResult result;
            if (AnsiConsole.Profile.Capabilities.Interactive)
            {
                result = await AnsiConsole.Progress()
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(),
                        new SpinnerColumn())
                    .StartAsync(async ctx =>
                    {
                        var task = ctx.AddTask($"rebuilding {Markup.Escape(projectionName)}", maxValue: 1);
                        var r = await rebuilder.Rebuild(projection, new Progress<RebuildProgress>(p =>
                        {
                            task.MaxValue = Math.Max(1, p.Total ?? p.Applied);
                            task.Value = p.Applied;
                            task.Description = $"{Markup.Escape(projectionName)} read_v{p.Generation}: {p.Applied:N0} events, "
                                + $"{p.EventsPerSecond:N0}/s";
                        }), ct);
                        task.Value = task.MaxValue;
                        return r;
                    });
            }
            else
            {
                // Not a terminal (CI, a pipe): one line per second instead of a redrawn bar.
                var last = DateTime.MinValue;
                result = await rebuilder.Rebuild(projection, new Progress<RebuildProgress>(p =>
                {
                    if (DateTime.UtcNow - last < TimeSpan.FromSeconds(1)) return;
                    last = DateTime.UtcNow;
                    var pct = p.Total is > 0 ? $" {100.0 * p.Applied / p.Total.Value:0.0}%" : "";
                    Console.WriteLine($"{projectionName} read_v{p.Generation}: {p.Applied:N0}/{p.Total?.ToString("N0") ?? "?"}{pct}, "
                        + $"{p.EventsPerSecond:N0} events/s, ETA {p.Eta?.ToString(@"hh\:mm\:ss") ?? "?"}");
                }), ct);
            }
            Console.WriteLine($"Rebuilt {result.Projection}: read_v{result.OldGeneration} -> read_v{result.NewGeneration}, "
                + $"{result.Events:N0} events in {result.Elapsed.TotalSeconds:0.0} s "
                + $"({result.Events / Math.Max(result.Elapsed.TotalSeconds, 1e-3):N0} events/s). The read views now point at "
                + $"read_v{result.NewGeneration}.");
            return 0;
        });
        return command;
    }

    private static Command Run()
    {
        var command = new Command("run", "Run the projections in the foreground (as the API does), until Ctrl-C.");
        command.SetAction(async (_, ct) =>
        {
            await using var services = CliHost.Build(verbose: true);
            if (services is null) return CliHost.ConfigurationError;
            await services.GetRequiredService<Migrator>().Migrate(ct);
            var workers = services.GetServices<IProjection>()
                .Select(p => ActivatorUtilities.CreateInstance<ProjectionWorker>(services, p)).ToList();
            services.GetRequiredService<ILogger<ProjectionWorker>>()
                .LogInformation("Running {Count} projection(s); Ctrl-C stops", workers.Count);
            await Task.WhenAll(workers.Select(w => w.Run(ct)));
            return 0;
        });
        return command;
    }
}
