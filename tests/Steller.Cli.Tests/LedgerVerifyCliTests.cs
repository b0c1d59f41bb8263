using FluentAssertions;
using Npgsql;
using NUnit.Framework;
using Steller.Testing;

namespace Steller.Cli.Tests;

/// <summary>`steller ledger seal|verify|head`: the hash chain from the command line, exit codes as documented.</summary>
public sealed class LedgerVerifyCliTests
{
    private static Dictionary<string, string?> Env(TestDatabase db) => new() { ["STELLER__Database__ConnectionString"] = db.ConnectionString };

    private static async Task<StellerProcess> Cli(TestDatabase db, params string[] args) =>
        await StellerProcess.RunToEnd(StellerProcess.Cli(Env(db), args), TimeSpan.FromSeconds(120));

    [Test, CancelAfter(300_000)]
    public async Task verify_exits_0_on_an_intact_log_and_1_naming_the_position_of_an_edited_event()
    {
        await using var db = await TestDatabase.Create("cliverify");
        var w = new WalletWriter(db.CreateEventStore());
        await w.Open("v1", "EUR");
        await w.Deposit("v1", "EUR", 12_34);
        await w.Deposit("v1", "EUR", 5_00);

        using var seal = await Cli(db, "ledger", "seal");
        seal.ExitCode.Should().Be(0, seal.Stderr + seal.Stdout);
        seal.Stdout.Should().Contain("3 events sealed");

        using var intact = await Cli(db, "ledger", "verify");
        intact.ExitCode.Should().Be(0, intact.Stderr + intact.Stdout);
        intact.Stdout.Should().Contain("Ledger chain intact").And.Contain("3 sealed events recomputed");

        using var head = await Cli(db, "ledger", "head");
        head.ExitCode.Should().Be(0, head.Stderr);
        head.Stdout.Should().Contain("\"sequence\": 3");

        string position;
        await using (var cmd = db.DataSource.CreateCommand(
            "update es.events set data = replace(data::text, '1234', '9234')::json where stream_id = 'wallet-v1-EUR' and revision = 1 " +
            "returning transaction_id::text || '/' || position"))
            position = (string)(await cmd.ExecuteScalarAsync())!;

        using var broken = await Cli(db, "ledger", "verify");
        broken.ExitCode.Should().Be(1, broken.Stderr + broken.Stdout);
        broken.Stdout.Should().Contain($"BROKEN at position {position}").And.Contain("changed").And.Contain("Ledger chain FAILED");

        using var json = await Cli(db, "ledger", "verify", "--json");
        json.ExitCode.Should().Be(1);
        json.Stdout.Should().Contain("\"intact\": false").And.Contain($"\"position\": \"{position}\"");

        using var bad = await Cli(db, "ledger", "verify", "--from", "yesterday");
        bad.ExitCode.Should().Be(2);
        bad.Stderr.Should().Contain("--from");
    }
}
