using System.CommandLine;
using Steller.Cli;

// steller: the operator CLI. Every command reads the same configuration as the API
// (appsettings.json + STELLER__SECTION__KEY variables) and exits non-zero on failure.
// Not a terminal (CI, a pipe): don't squeeze tables into 80 columns.
if (Console.IsOutputRedirected) Spectre.Console.AnsiConsole.Profile.Width = 200;

var root = new RootCommand("Steller operator CLI: migrations, projections, audits.");
root.Subcommands.Add(MigrateCommand.Create());
root.Subcommands.Add(ProjectionsCommand.Create());
root.Subcommands.Add(LedgerCommand.Create());
root.Subcommands.Add(StockCommand.Create());
root.Subcommands.Add(AdminCommand.Create());
root.Subcommands.Add(DemoCommand.Create());
root.Subcommands.Add(AnalystCommand.Create());
return await root.Parse(args).InvokeAsync();
