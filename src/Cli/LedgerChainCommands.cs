using System.CommandLine;
using System.Text.Json;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Steller.Application.EventStore;
using Steller.Infrastructure.Postgres;
using Steller.Projections.Chain;
using Steller.Projections.Chain.ReadingHead;
using Steller.Projections.Chain.VerifyingChain;

namespace Steller.Cli;

/// <summary>steller ledger verify|seal|head: the hash chain over the event log (docs/ledger-verification.md).</summary>
public static class LedgerChainCommands
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static IEnumerable<Command> Create() => [Verify(), Seal(), Head()];

    private static Command Verify()
    {
        var from = new Option<string>("--from")
        {
            Description = "Start at this log position (as printed, e.g. 1234/5678), trusting the chain before it. Default: the start of the log.",
        };
        var expect = new Option<string>("--expect")
        {
            Description = "POSITION=HASH written down earlier (GET /admin/ledger/head): the recomputed chain must have HASH at POSITION.",
        };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON." };
        var command = new Command("verify",
            "Recompute the hash chain from the event log and compare it with the sealed chain. Exits 0 when intact, 1 naming the first "
            + "position where it breaks (an event changed, deleted or inserted after it was sealed).") { from, expect, json };
        command.SetAction(async (parse, ct) =>
        {
            LogPosition? start = null;
            if (parse.GetValue(from) is { } text)
            {
                if (!LogPosition.TryParse(text, out var p))
                {
                    Console.Error.WriteLine($"steller: --from '{text}' is not a log position; use the form printed by verify or head, e.g. 1234/5678.");
                    return LedgerCommand.UsageError;
                }
                start = p;
            }
            ExpectedLink? expected = null;
            if (parse.GetValue(expect) is { } e)
            {
                var parts = e.Split('=', 2);
                if (parts.Length != 2 || !LogPosition.TryParse(parts[0], out var at) || parts[1].Length != 64 || !parts[1].All(char.IsAsciiHexDigit))
                {
                    Console.Error.WriteLine("steller: --expect must be POSITION=HASH, e.g. 1234/5678=<64 hex digits>.");
                    return LedgerCommand.UsageError;
                }
                expected = new ExpectedLink(at, parts[1].ToLowerInvariant());
            }
            await using var services = CliHost.Build();
            if (services is null) return CliHost.ConfigurationError;
            await services.GetRequiredService<Migrator>().Migrate(ct);
            var mediator = services.GetRequiredService<IMediator>();
            var quiet = parse.GetValue(json);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var result = await LedgerCommand.WithProgress("verifying the chain",
                p => mediator.Send(new VerifyLedgerChainRequest(start, expected, p), ct), quiet);
            if (quiet)
            {
                Console.WriteLine(JsonSerializer.Serialize(result, Json));
                return result.Intact ? 0 : LedgerCommand.DriftFound;
            }
            Console.WriteLine($"{result.EventsChecked:N0} sealed events recomputed{(result.From is { } f ? $" from {f}" : "")} in "
                              + $"{clock.Elapsed.TotalSeconds:0.00} s, {result.Unsealed:N0} after the head not sealed yet.");
            if (result.Break is { } b)
            {
                Console.WriteLine($"BROKEN at position {b.Position} (sequence {b.Sequence}, {b.Kind}): {b.Message}");
                Console.WriteLine($"Intact up to sequence {result.Sequence} at {result.Position ?? "the start"}.");
                Console.WriteLine("Ledger chain FAILED.");
                return LedgerCommand.DriftFound;
            }
            Console.WriteLine($"Head: sequence {result.Sequence}, position {result.Position ?? "-"}, hash {result.Hash}.");
            Console.WriteLine("Ledger chain intact.");
            return 0;
        });
        return command;
    }

    private static Command Seal()
    {
        var command = new Command("seal",
            "Seal every event of the log not sealed yet into the hash chain and exit (the API does this continuously; one sealer at a time).");
        command.SetAction(async (parse, ct) =>
        {
            await using var services = CliHost.Build();
            if (services is null) return CliHost.ConfigurationError;
            await services.GetRequiredService<Migrator>().Migrate(ct);
            var sealer = services.GetRequiredService<ChainSealer>();
            await using var leadership = await sealer.TryLead(ct);
            if (leadership is null)
            {
                Console.Error.WriteLine("steller: another sealer (a running API node) holds the chain; it seals as the log grows.");
                return 1;
            }
            var count = await sealer.SealAvailable(ct);
            var head = await services.GetRequiredService<ChainStore>().Head(ct);
            Console.WriteLine($"{count:N0} events sealed; head: sequence {head?.Sequence ?? 0}, position {head?.Position.ToString() ?? "-"}, "
                              + $"hash {head?.HashHex ?? ChainHasher.Hex(ChainHasher.Genesis)}.");
            return 0;
        });
        return command;
    }

    private static Command Head()
    {
        var command = new Command("head", "Print the chain's head (as GET /admin/ledger/head) as JSON: write it down to verify against later.");
        command.SetAction(async (parse, ct) =>
        {
            await using var services = CliHost.Build();
            if (services is null) return CliHost.ConfigurationError;
            await services.GetRequiredService<Migrator>().Migrate(ct);
            var head = await services.GetRequiredService<IMediator>().Send(new ReadLedgerHeadRequest(), ct);
            Console.WriteLine(JsonSerializer.Serialize(head, Json));
            return 0;
        });
        return command;
    }
}
