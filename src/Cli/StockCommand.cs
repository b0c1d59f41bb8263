using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;
using Steller.Infrastructure.Postgres;
using Steller.Projections.Inventory.AuditingStock;

namespace Steller.Cli;

/// <summary>steller stock audit: every stock stream folded from the event store and compared with read.stock_levels.</summary>
public static class StockCommand
{
    public const int DriftFound = 1;
    public const int UsageError = 2;

    public static Command Create()
    {
        var command = new Command("stock", "Inventory, folded from the event store.");
        command.Subcommands.Add(Audit());
        return command;
    }

    private static Command Audit()
    {
        var asOf = new Option<string>(
            "--as-of") { Description = "Stop at events recorded after this instant (ISO 8601). The read model is then not compared." };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON." };
        var command = new Command("audit",
            "Fold every stock stream from the event store, check available never went below zero, compare every item with "
            + "read.stock_levels, "
            + "print every drift. Exits 1 on any drift.") { asOf, json };
        command.SetAction(async (parse, ct) =>
        {
            if (!LedgerCommand.TryAsOf(parse.GetValue(asOf), out var instant)) return UsageError;
            await using var services = CliHost.Build();
            if (services is null) return CliHost.ConfigurationError;
            await services.GetRequiredService<Migrator>().Migrate(ct);
            var report = await services.GetRequiredService<IMediator>().Send(new AuditStockRequest(instant, Steller.Projections.Audits.AuditTriggers.Cli), ct);

            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(report,
                    new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true }));
                return report.Clean ? 0 : DriftFound;
            }
            var table = new Table().Title("stock").AddColumns("sku", "location", "on hand", "reserved", "available", "lowest available",
                "read model on hand", "read model reserved", "check");
            var drifted = report.Drifts.Select(d => (d.Sku, d.Location)).ToHashSet();
            foreach (var s in report.Items)
                table.AddRow(Markup.Escape(s.Sku), Markup.Escape(s.Location), N(s.OnHand), N(s.Reserved), N(s.Available),
                    N(s.LowestAvailable),
                    s.ReadModelOnHand is { } oh ? N(oh) : "-", s.ReadModelReserved is { } r ? N(r) : "-",
                        drifted.Contains((s.Sku, s.Location)) ? "[red]DRIFT[/]" : "[green]ok[/]");
            AnsiConsole.Write(table);
            Console.WriteLine($"{report.EventsRead:N0} events read, {report.StockEvents:N0} stock events, up to position {report.Position}"
                              + (report.AsOf is { } at ? $", as of {at:O}" : "") + ".");
            if (report.ReadModelNote is { } note) Console.WriteLine(note);
            foreach (var d in report.Drifts) Console.WriteLine(AuditOutput.Drift($"{d.Sku} {d.Location}", d.Field, d.Log, d.ReadModel, d.Message));
            Console.WriteLine(AuditOutput.Verdict("Stock", report.Result, report.ReadModelPosition, report.Position, report.ReadModelStopped is not null,
                report.Drifts.Count));
            return report.Clean ? 0 : DriftFound;
        });
        return command;
    }

    private static string N(long n) => n.ToString(CultureInfo.InvariantCulture);
}
