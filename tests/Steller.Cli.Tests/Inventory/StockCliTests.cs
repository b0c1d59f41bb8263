using Steller.Application.Commands;
using FluentAssertions;
using Microsoft.Extensions.Logging.Abstractions;
using NUnit.Framework;
using Steller.Application.EventStore;
using Steller.Application.Inventory;
using Steller.Application.Serialization;
using Steller.Domain.Inventory;
using Steller.Testing;

namespace Steller.Cli.Tests.Inventory;

/// <summary>The real `steller` CLI: stock audit from the event store against read.stock_levels.</summary>
public sealed class StockCliTests
{
    private static Dictionary<string, string?> Env(TestDatabase db) => new() { ["STELLER__Database__ConnectionString"] = db.ConnectionString };

    private static async Task<StellerProcess> Cli(TestDatabase db, params string[] args) =>
        await StellerProcess.RunToEnd(StellerProcess.Cli(Env(db), args), TimeSpan.FromSeconds(120));

    [Test, CancelAfter(240_000)]
    public async Task stock_audit_is_clean_after_a_rebuild_and_exits_1_naming_the_drift_when_a_level_is_tampered_with()
    {
        await using var db = await TestDatabase.Create("clistock");
        var stock = new AggregateCommands<Stock, IStockCommand, IStockEvent>(Aggregates.StockItems, db.CreateEventStore(), EventTypeRegistry.ForDomain(), NullLogger.Instance);
        var metadata = new EventMetadata("c", "c", Guid.NewGuid(), "test", DateTimeOffset.UtcNow);
        await stock.Execute(Stock.StreamName("card-a", "wh-1"), new ReceiveStock("r1", 20, 4_50, "EUR"), metadata);
        await stock.Execute(Stock.StreamName("card-a", "wh-1"), new ReserveStock("res-1", 3, "o-1", null, DateTimeOffset.UtcNow), metadata);
        await stock.Execute(Stock.StreamName("card-a", "wh-1"), new CommitReservation("res-1"), metadata);
        await stock.Execute(Stock.StreamName("card-a", "wh-1"), new ReserveStock("res-2", 4, "o-2", null, DateTimeOffset.UtcNow), metadata);

        using var rebuild = await Cli(db, "projections", "rebuild", "stock_levels");
        rebuild.ExitCode.Should().Be(0, rebuild.Stderr + rebuild.Stdout);

        using var clean = await Cli(db, "stock", "audit");
        clean.ExitCode.Should().Be(0, clean.Stderr + clean.Stdout);
        clean.Stdout.Should().Contain("card-a").And.Contain("Stock audit clean");

        await using (var cmd = db.DataSource.CreateCommand("update read.stock_levels set reserved = reserved + 1 where sku = 'card-a'"))
            await cmd.ExecuteNonQueryAsync();

        using var drift = await Cli(db, "stock", "audit");
        drift.ExitCode.Should().Be(1, drift.Stderr + drift.Stdout);
        drift.Stdout.Should().Contain("DRIFT card-a wh-1 reserved: log (folded) 4, read model 5").And.Contain("Stock audit FAILED");

        using var bad = await Cli(db, "stock", "audit", "--as-of", "yesterday");
        bad.ExitCode.Should().Be(2);
    }
}
