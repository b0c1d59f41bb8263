using Steller.Application.Time;
using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;
using Steller.Infrastructure.Postgres;
using Steller.Projections.Wallets;
using Steller.Projections.Wallets.AuditingLedger;

namespace Steller.Cli;

/// <summary>steller ledger audit|balances: finance's replay of the ledger straight from the event store.</summary>
public static class LedgerCommand
{
    public const int DriftFound = 1;
    public const int UsageError = 2;

    public static Command Create()
    {
        var command = new Command("ledger", "The double-entry ledger, folded from the event store: audit and balances as of an instant.");
        command.Subcommands.Add(Audit());
        command.Subcommands.Add(Balances());
        foreach (var chain in LedgerChainCommands.Create()) command.Subcommands.Add(chain); // verify, seal, head
        return command;
    }

    private static Option<string> AsOfOption(string description) => new("--as-of") { Description = description };

    /// <summary>Parses an --as-of instant (ISO 8601, UTC when no offset); prints why and returns false when it is not one.</summary>
    internal static bool TryAsOf(string? text, out DateTimeOffset? asOf)
    {
        if (Instants.TryParse(text, out asOf)) return true;
        Console.Error.WriteLine($"steller: --as-of '{text}' is not an instant; use ISO 8601, e.g. 2026-01-31T00:00:00Z.");
        return false;
    }

    private static Command Audit()
    {
        var asOf = AsOfOption("Stop at events recorded after this instant (ISO 8601). The read model is then not compared.");
        var json = new Option<bool>("--json") { Description = "Print the report as JSON (the shape of POST /admin/ledger/audit)." };
        var command = new Command("audit",
            "Fold every wallet and vendor account from the event store, check each currency sums to zero, compare every account with read.wallet_balances, "
            + "print every drift. Exits 1 on any drift.") { asOf, json };
        command.SetAction(async (parse, ct) =>
        {
            if (!TryAsOf(parse.GetValue(asOf), out var instant)) return UsageError;
            await using var services = CliHost.Build();
            if (services is null) return CliHost.ConfigurationError;
            await services.GetRequiredService<Migrator>().Migrate(ct);
            var mediator = services.GetRequiredService<IMediator>();
            var report = await WithProgress("auditing the ledger", p => mediator.Send(new AuditLedgerRequest(instant, p, Steller.Projections.Audits.AuditTriggers.Cli), ct),
                quiet: parse.GetValue(json));

            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(report,
                    new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true }));
                return report.Clean ? 0 : DriftFound;
            }
            var table = new Table().Title("accounts")
                .AddColumns("account", "partner", "currency", "posted", "pending", "available", "read model posted", "check");
            var drifted = report.Drifts.Select(d => d.Account).ToHashSet();
            foreach (var a in report.Accounts)
                table.AddRow(Markup.Escape(a.Account), Markup.Escape(a.PartnerId ?? "-"), a.Currency, Amount(a.Posted, a.Currency),
                    Amount(a.Pending, a.Currency), Amount(a.Available, a.Currency),
                    a.ReadModelPosted is { } rm ? Amount(rm, a.Currency) : "-", drifted.Contains(a.Account) ? "[red]DRIFT[/]" : "[green]ok[/]");
            AnsiConsole.Write(table);
            var sums = new Table().Title("currencies").AddColumns("currency", "sum of all accounts", "balanced");
            foreach (var c in report.Currencies) sums.AddRow(c.Currency, Amount(c.Sum, c.Currency), c.Balanced ? "[green]yes[/]" : "[red]NO[/]");
            AnsiConsole.Write(sums);

            Console.WriteLine($"{report.EventsRead:N0} events read, {report.WalletEvents:N0} wallet events, {report.Postings:N0} postings, "
                              + $"up to position {report.Position}"
                              + (report.AsOf is { } at ? $", as of {at:O}" : "") + ".");
            if (report.ReadModelNote is { } note) Console.WriteLine(note);
            foreach (var d in report.Drifts) Console.WriteLine(AuditOutput.Drift(d.Account, d.Field, d.Log, d.ReadModel, d.Message));
            Console.WriteLine(AuditOutput.Verdict("Ledger", report.Result, report.ReadModelPosition, report.Position, report.ReadModelStopped is not null,
                report.Drifts.Count));
            return report.Clean ? 0 : DriftFound;
        });
        return command;
    }

    private static Command Balances()
    {
        var asOf = AsOfOption("The instant (ISO 8601); default now.");
        var partner = new Option<string>(
            "--partner") { Description = "Only this partner's wallets (platform accounts are then left out)." };
        var command = new Command("balances",
            "Balances of every wallet and platform account as they were at an instant, folded from the event store.") { asOf, partner };
        command.SetAction(async (parse, ct) =>
        {
            if (!TryAsOf(parse.GetValue(asOf), out var instant)) return UsageError;
            await using var services = CliHost.Build();
            if (services is null) return CliHost.ConfigurationError;
            await services.GetRequiredService<Migrator>().Migrate(ct);
            var replay = services.GetRequiredService<LedgerReplay>();
            var snapshot = await WithProgress("replaying the ledger", p => replay.Fold(instant, null, p, ct));
            var only = parse.GetValue(partner);

            var wallets = new Table().Title("wallets")
                .AddColumns("partner", "currency", "posted", "pending", "available", "credit limit", "frozen", "revision");
            foreach (var w in snapshot.Wallets.Values.Where(w => only is null || w.PartnerId == only)
                .OrderBy(w => w.PartnerId, StringComparer.Ordinal).ThenBy(w => w.Currency))
                wallets.AddRow(Markup.Escape(w.PartnerId), w.Currency, Amount(w.State.Posted, w.Currency),
                    Amount(w.State.Pending, w.Currency), Amount(w.State.Available, w.Currency), Amount(w.State.CreditLimit, w.Currency), w.State.Frozen ? "yes" : "no", w.Revision.ToString());
            AnsiConsole.Write(wallets);
            if (only is null)
            {
                var platform = new Table().Title("platform accounts").AddColumns("account", "balance");
                foreach (var (account, balance) in snapshot.Balances.Where(b => Steller.Domain.Wallets.Accounts.IsPlatform(b.Key))
                    .OrderBy(b => b.Key, StringComparer.Ordinal))
                    platform.AddRow(Markup.Escape(account),
                        Amount(balance, Steller.Domain.Wallets.Accounts.CurrencyOf(account)));
                AnsiConsole.Write(platform);
            }
            Console.WriteLine($"As of {(instant ?? DateTimeOffset.UtcNow):O}: {snapshot.WalletEvents:N0} wallet events of "
                + $"{snapshot.EventsRead:N0} read.");
            foreach (var f in snapshot.Faults)
                Console.WriteLine($"FAULT {f.StreamId} revision {f.Revision} ({f.Type} at {f.Position}): {f.Error}; the rest of the stream "
                    + $"is left out.");
            return snapshot.Faults.Count == 0 ? 0 : DriftFound;
        });
        return command;
    }

    /// <summary>Major units with the currency's ISO 4217 exponent (12345 EUR → 123.45, 12345 JPY → 12345, 12345 BHD → 12.345).</summary>
    private static string Amount(decimal minor, string currency) => Steller.Domain.Money.Format(minor, currency);

    /// <summary>A progress bar with events/s on a terminal; a line per second otherwise (CI, a pipe).</summary>
    internal static async Task<T> WithProgress<T>(string what, Func<IProgress<ReplayProgress>, Task<T>> run, bool quiet = false)
    {
        if (quiet) return await run(new Progress<ReplayProgress>());
        if (AnsiConsole.Profile.Capabilities.Interactive)
            return await AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(),
                    new SpinnerColumn())
                .StartAsync(async ctx =>
                {
                    var task = ctx.AddTask(what, maxValue: 1);
                    var result = await run(new Progress<ReplayProgress>(p =>
                    {
                        task.MaxValue = Math.Max(1, p.Total ?? p.EventsRead);
                        task.Value = p.EventsRead;
                        task.Description = $"{what}: {p.EventsRead:N0} events, {p.EventsPerSecond:N0}/s";
                    }));
                    task.Value = task.MaxValue;
                    return result;
                });
        var last = DateTime.UtcNow;
        return await run(new Progress<ReplayProgress>(p =>
        {
            if (DateTime.UtcNow - last < TimeSpan.FromSeconds(1)) return;
            last = DateTime.UtcNow;
            var pct = p.Total is > 0 ? $" {100.0 * p.EventsRead / p.Total.Value:0.0}%" : "";
            Console.Error.WriteLine($"{what}: {p.EventsRead:N0}/{p.Total?.ToString("N0") ?? "?"}{pct}, {p.EventsPerSecond:N0} events/s");
        }));
    }
}
