using Dapper;
using FluentAssertions;
using NUnit.Framework;
using Steller.Application.EventStore;
using Steller.Projections.Catalog;
using Steller.Projections.Engine;
using Steller.Projections.Inventory;
using Steller.Projections.Orders;
using Steller.Projections.Streams;
using Steller.Projections.Wallets;
using Steller.Testing;

namespace Steller.Projections.Tests.Hostile;

/// <summary>
/// Projections are total over every event the domain can accept: each read model is fed every event type with hostile
/// text in every string (NUL, a lone surrogate, an RTL override, 100 KB) or the bounds of long/int in every number.
/// </summary>
public sealed class HostileEventTests
{
    /// <summary>Every read model Steller ships (process managers are not read models: they issue commands).</summary>
    private static IProjection[] ReadModels() =>
    [
        new StreamStatsProjection(), new OpenHoldsProjection(), new LedgerProjection(), new StockLevelsProjection(),
        new OpenReservationsProjection(), new CatalogProductsProjection(), new ProductCostHistoryProjection(),
        new NegativeMarginsProjection(), new StockMovementsProjection(), new LowStockProjection(), new OrdersProjection(),
        new PartnerDailyStatsProjection(),
    ];

    private static IEnumerable<string> TextVariants => HostileEvents.Strings.Select(v => v.Name);
    private static IEnumerable<string> NumberVariants => HostileEvents.Numbers.Select(v => v.Name);

    [TestCaseSource(nameof(TextVariants)), CancelAfter(180_000)]
    public async Task every_projection_applies_every_event_type_carrying_hostile_text_without_stopping_or_parking(string name)
    {
        var variant = HostileEvents.Strings.Single(v => v.Name == name);
        await using var h = await ProjectionHarness.Create("hostiletext");
        var events = HostileEvents.For(variant);
        foreach (var (stream, e) in events) await h.Store.Append(stream, ExpectedRevision.Any, [e]);
        var projections = ReadModels();
        foreach (var p in projections) h.Start(p);

        var outcome = await Settle(h, projections);

        outcome.Where(o => o.Value != "caught up").Should().BeEmpty("every projection must apply every event the domain accepts");
        (await h.Bookkeeping.Parked(null, default)).Should().BeEmpty();
        var text = PgText.Clean(variant.Text.Replace(HostileEvents.LoneSurrogateMarker, "\ud800"));
        (await h.Db.Scalar<string>("select reference from read.ledger_entries where kind = 'deposit' limit 1")).Should().Be(text,
            "the ledger keeps the deposit's reference, made safe for PostgreSQL");
        (await h.Db.Scalar<long>("select count(*) from read.orders")).Should().Be(1, "the order is in read.orders");
        (await h.Db.Scalar<long>("select count(*) from read.stock_levels")).Should().Be(1, "the stock item is in read.stock_levels");
    }

    [TestCaseSource(nameof(NumberVariants)), CancelAfter(180_000)]
    public async Task extreme_numbers_never_stop_a_read_model_that_parks_and_the_ledger_stops_before_a_wrong_balance(string name)
    {
        var variant = HostileEvents.Numbers.Single(v => v.Name == name);
        await using var h = await ProjectionHarness.Create("hostilenumbers");
        foreach (var (stream, e) in HostileEvents.For(variant)) await h.Store.Append(stream, ExpectedRevision.Any, [e]);
        var projections = ReadModels();
        foreach (var p in projections) h.Start(p);

        var outcome = await Settle(h, projections);

        foreach (var p in projections.Where(p => p.OnPoison == OnPoisonEvent.Park))
            outcome[p.Name].Should().Be("caught up", $"{p.Name} parks what it cannot apply and goes on");
        foreach (var p in projections.Where(p => p.OnPoison == OnPoisonEvent.Stop))
            outcome[p.Name].Should().Match(o => o == "caught up" || o.StartsWith("stopped: PoisonEventException: Projection " + p.Name + " stopped at"),
                $"{p.Name} either applies the events or stops right before the one it cannot apply, naming it");
        foreach (var parked in await h.Bookkeeping.Parked(null, default))
            projections.Single(p => p.Name == parked.Projection).OnPoison.Should().Be(OnPoisonEvent.Park);
    }

    /// <summary>Waits until every projection has read the whole log or is stopped (its fault recorded twice); tells which.</summary>
    private static async Task<Dictionary<string, string>> Settle(ProjectionHarness h, IProjection[] projections)
    {
        var outcome = new Dictionary<string, string>();
        var total = await h.Db.Scalar<long>("select count(*) from es.events");
        await Eventually.True(async () =>
        {
            await using var conn = await h.Db.DataSource.OpenConnectionAsync();
            foreach (var p in projections)
            {
                var fault = await conn.QuerySingleOrDefaultAsync<(string Error, int Attempts)?>(
                    "select error, attempts from steller.projection_faults where name = @name", new { name = p.Name });
                var active = await h.Bookkeeping.GetActive(p.Name, default);
                var applied = active is null ? 0 : (await h.Bookkeeping.LoadCheckpoint(p.Name, active.Generation, default)).EventsApplied;
                outcome[p.Name] = applied == total && fault is null ? "caught up"
                    : fault is { Attempts: >= 2 } f ? $"stopped: {f.Error}"
                    : "running";
            }
            return outcome.Values.All(v => v != "running");
        }, TimeSpan.FromSeconds(120), "every projection has read the whole log or stopped");
        return outcome;
    }
}
