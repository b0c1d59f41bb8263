using FluentAssertions;
using NUnit.Framework;
using Steller.Domain.Inventory;
using Steller.Testing;

namespace Steller.Cli.Tests.Inventory;

/// <summary>The real `steller` CLI rebuilding the stock movement and low-stock read models.</summary>
public sealed class StockMovementsCliTests
{
    private static Dictionary<string, string?> Env(TestDatabase db) => new() { ["STELLER__Database__ConnectionString"] = db.ConnectionString };

    private static async Task<StellerProcess> Cli(TestDatabase db, params string[] args) =>
        await StellerProcess.RunToEnd(StellerProcess.Cli(Env(db), args), TimeSpan.FromSeconds(120));

    private static async Task<string> Table(TestDatabase db, string sql) =>
        await db.Scalar<string>($"select coalesce(string_agg(t::text, E'\\n' order by t::text), '') from ({sql}) t") ?? "";

    [Test, CancelAfter(240_000)]
    public async Task steller_projections_rebuild_gives_identical_movement_and_low_stock_rows_every_time()
    {
        await using var db = await TestDatabase.Create("climovements");
        var w = new StockEventWriter(db.CreateEventStore()) { Now = new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero) };
        await w.Append("card-a", "wh-1", new StockReceived("r1", 20, 4_50, "EUR"), new LowThresholdSet(15));
        await w.Append("card-a", "wh-1", new StockReserved("res-1", 3, "o-1", w.Now.Value.AddMinutes(15), null), new ReservationCommitted("res-1", 3));
        await w.Append("card-a", "wh-1", new StockTransferredOut("t1", "wh-2", 4, "EUR", null));
        await w.Append("card-a", "wh-2", new StockTransferredIn("t1", "wh-1", 4, "EUR", null));
        await w.AppendRaw("card-a", "wh-1", "stock.adjusted.v1", """{"adjustmentId":"a1","quantity":-1,"reason":"damaged"}""");

        const string movements = "select sku, location, stream_revision, kind, on_hand_delta, reserved_delta, on_hand_after, reserved_after, reason, reference, order_id, counterpart_location, recorded_at, commit_position, event_id from read.stock_movements";
        const string low = "select sku, location, available, threshold, low_since from read.low_stock";
        var snapshots = new List<(string Movements, string Low)>();
        for (var run = 0; run < 2; run++)
        {
            foreach (var projection in new[] { "stock_movements", "low_stock" })
            {
                using var rebuild = await Cli(db, "projections", "rebuild", projection);
                rebuild.ExitCode.Should().Be(0, rebuild.Stderr + rebuild.Stdout);
            }
            snapshots.Add((await Table(db, movements), await Table(db, low)));
        }

        snapshots[0].Movements.Split('\n').Should().HaveCount(6);
        snapshots[0].Movements.Should().Contain("(card-a,wh-1,5,adjusted,-1,0,12,0,damaged,a1,,,");
        snapshots[0].Low.Should().StartWith("(card-a,wh-1,12,15,");
        snapshots[1].Should().Be(snapshots[0]);
    }
}
