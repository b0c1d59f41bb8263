using Steller.Application.Serialization;
using Steller.Domain.Orders;
using Steller.Domain.Wallets;
using Steller.Projections.Inventory;
using Steller.Projections.Wallets;

namespace Steller.Cli.Tests.Simulation;

/// <summary>
/// What must hold after every scenario, whatever the faults did. Each check returns the violations it found (empty: it
/// holds); the ledger and stock audits are Steller's own (<see cref="LedgerAudit"/>, <see cref="StockAudit"/>: the log folded,
/// every currency summing to zero, no oversell at any revision, and the read models equal to the folds).
/// </summary>
public sealed class Invariants(SimulationWorld world, Scenario scenario, ScenarioRun run)
{
    private static readonly TimeSpan CatchUp = TimeSpan.FromSeconds(60);
    private readonly List<string> violations = [];

    public async Task<IReadOnlyList<string>> Check()
    {
        await OrdersEndedOnce();
        DuplicatesGotOneOrder();
        foreach (var error in run.InternalErrors) Violated($"answered 500: {error}");
        await OneVendorOrderPerRequestIdAndEveryDeliveryBilled();
        await WalletsNeverBelowTheirCreditLimit();
        await ExpiredHoldsAndReservationsReleased();
        await OrderReadModelEqualsTheFold();
        await LedgerAuditClean();
        await StockAuditClean();
        return violations;
    }

    private void Violated(string what) => violations.Add(what);

    /// <summary>Every order that exists ended, and each round (the first, and one per admin retry) ended exactly once.</summary>
    private async Task OrdersEndedOnce()
    {
        foreach (var o in scenario.Orders)
        {
            var (events, _) = await Folds.Events<IOrderEvent>(world.Db, Order.StreamName(Order.IdFor(o.PartnerId, o.ClientReference)));
            if (events.Count == 0)
            {
                if (run.Placements.GetValueOrDefault(o.ClientReference)?.Any(a => a.Status is 200 or 202) == true)
                    Violated($"order {o.ClientReference} was accepted but its stream is empty");
                continue;
            }
            var order = events.Aggregate(Order.Empty, Order.Evolve);
            if (!order.IsTerminal) Violated($"order {o.ClientReference} did not end: {order.Status}");
            var endings = events.Count(e => e is OrderCompleted or OrderFailed or OrderCancelled or OrderRejected);
            var rounds = 1 + events.Count(e => e is OrderRetried);
            if (endings != rounds) Violated($"order {o.ClientReference} ended {endings} time(s) in {rounds} round(s)");
            if (order.Refunded > (order.Completion?.Captured ?? 0))
                Violated($"order {o.ClientReference} refunded {order.Refunded} of {order.Completion?.Captured ?? 0} captured");
        }
    }

    /// <summary>Duplicates (same client reference, same body) all answered with the one order, never 409.</summary>
    private void DuplicatesGotOneOrder()
    {
        foreach (var (reference, answers) in run.Placements)
        {
            var ids = answers.Where(a => a.OrderId is not null).Select(a => a.OrderId).Distinct().ToList();
            if (ids.Count > 1) Violated($"order {reference}: duplicates answered with {ids.Count} different order ids");
            if (answers.Any(a => a.Status == 409)) Violated($"order {reference}: an exact duplicate was refused 409 {answers.First(a => a.Status == 409).Code}");
            if (answers.Any(a => a.Status >= 500)) Violated($"order {reference}: still {answers.First(a => a.Status >= 500).Status} after a minute of retries");
            var statuses = answers.Select(a => a.Status).Distinct().ToList();
            if (statuses.Contains(202) && statuses.Any(s => s is >= 400 and not 422)) // 422 vendor_busy may precede acceptance
                Violated($"order {reference}: duplicates got {string.Join(", ", statuses)}");
        }
    }

    /// <summary>
    /// The simulator holds at most one vendor order per request id (anywhere, across every scenario so far), and each vendor
    /// order that delivered something for one of this scenario's lines was recorded by Steller with the same number of units
    /// (nothing bought at the vendor and lost, nothing billed that the vendor did not deliver).
    /// </summary>
    private async Task OneVendorOrderPerRequestIdAndEveryDeliveryBilled()
    {
        var vendorOrders = await world.Simulator.Orders("giftcard");
        foreach (var twice in vendorOrders.GroupBy(v => v.RequestId).Where(g => g.Count() > 1))
            Violated($"{twice.Count()} vendor orders for request id {twice.Key}");
        var byRequest = vendorOrders.GroupBy(v => v.RequestId).ToDictionary(g => g.Key, g => g.First());
        foreach (var o in scenario.Orders)
        {
            var (events, _) = await Folds.Events<IOrderEvent>(world.Db, Order.StreamName(Order.IdFor(o.PartnerId, o.ClientReference)));
            var submitted = new Dictionary<int, string>();
            var recorded = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var e in events)
            {
                if (e is OrderSubmittedToVendor s) submitted[s.LineNo] = s.RequestId;
                if (e is OrderFulfilled f && submitted.TryGetValue(f.LineNo, out var requestId)) recorded[requestId] = f.Delivered;
            }
            foreach (var requestId in submitted.Values.Concat(recorded.Keys).Distinct())
            {
                if (!byRequest.TryGetValue(requestId, out var vendor) || vendor.Status is not ("Succeeded" or "PartialFailed" or "Failed")) continue;
                var steller = recorded.GetValueOrDefault(requestId);
                if (vendor.Delivered != steller)
                    Violated($"order {o.ClientReference} request {requestId}: the vendor delivered {vendor.Delivered} ({vendor.Status}), Steller recorded {steller}");
            }
        }
    }

    /// <summary>No wallet's available balance ever went below minus its credit limit, at any revision.</summary>
    private async Task WalletsNeverBelowTheirCreditLimit()
    {
        foreach (var p in scenario.Partners)
        {
            var (_, lowest) = await Folds.Wallet(world.Db, p.Id);
            if (lowest < 0) Violated($"wallet {p.Id}: available + credit limit reached {lowest}");
        }
    }

    /// <summary>Holds and reservations whose expiry passed (on the nodes' clock) were released by the expiry jobs.</summary>
    private async Task ExpiredHoldsAndReservationsReleased()
    {
        var stale = new List<string>();
        var released = await Within(CatchUp, async () =>
        {
            stale.Clear();
            var due = world.Time.GetUtcNow().AddSeconds(-2);
            foreach (var p in scenario.Partners)
                foreach (var h in (await Folds.Wallet(world.Db, p.Id)).Wallet.Holds.Values)
                    if (h.Status == HoldStatus.Open && h.ExpiresAt is { } at && at < due) stale.Add($"hold {h.TransferId} of {p.Id}");
            if (scenario.Stock is { } stock)
                foreach (var location in new[] { "main", "shop" })
                    foreach (var r in (await Folds.Stock(world.Db, stock.Sku, location)).Reservations.Values)
                        if (r.Status == Domain.Inventory.ReservationStatus.Open && r.ExpiresAt < due) stale.Add($"reservation {r.ReservationId} at {location}");
            return stale.Count == 0;
        });
        if (!released) Violated($"expired but still open after {CatchUp.TotalSeconds:0} s: {string.Join(", ", stale)}");
    }

    /// <summary>read.orders (status, captured, refunded, delivered) equals each order's fold once it has caught up with the stream.</summary>
    private async Task OrderReadModelEqualsTheFold()
    {
        foreach (var o in scenario.Orders)
        {
            var orderId = Order.IdFor(o.PartnerId, o.ClientReference);
            var (events, revision) = await Folds.Events<IOrderEvent>(world.Db, Order.StreamName(orderId));
            if (events.Count == 0) continue;
            var fold = events.Aggregate(Order.Empty, Order.Evolve);
            var expected = $"{fold.Status} captured {fold.Completion?.Captured ?? 0} refunded {fold.Refunded} delivered {fold.Lines.Sum(l => l.Result?.Delivered ?? 0)}";
            string? actual = null;
            var equal = await Within(CatchUp, async () =>
            {
                actual = await world.Db.Scalar<string>($"""
                    select status || ' captured ' || captured || ' refunded ' || refunded || ' delivered ' || delivered
                      from read.orders where order_id = '{orderId.Replace("'", "''")}' and last_revision = {revision}
                    """);
                return actual == expected;
            });
            if (!equal) Violated($"order {o.ClientReference}: read.orders says '{actual ?? "(no row at the stream's revision)"}', the fold '{expected}'");
        }
    }

    /// <summary>Steller's ledger audit: clean (every currency sums to zero, read.wallet_balances equals the fold).</summary>
    private async Task LedgerAuditClean()
    {
        var audit = new LedgerAudit(new LedgerReplay(world.Db.CreateEventStore(), EventTypeRegistry.ForDomain()), world.Db.DataSource);
        LedgerAuditReport? report = null;
        await Within(CatchUp, async () => (report = await audit.Run()).Result != "behind");
        if (report!.Result != "clean")
            Violated($"ledger audit {report.Result}: {string.Join("; ", report.Drifts.Take(5).Select(d => d.Message))}"
                + $"{(report.ReadModelNote is null ? "" : $" ({report.ReadModelNote})")}");
        foreach (var c in report.Currencies.Where(c => !c.Balanced)) Violated($"ledger: {c.Currency} sums to {c.Sum}, not zero");
    }

    /// <summary>Steller's stock audit: clean (never oversold at any revision, read.stock_levels equals the fold).</summary>
    private async Task StockAuditClean()
    {
        var audit = new StockAudit(world.Db.CreateEventStore(), EventTypeRegistry.ForDomain(), world.Db.DataSource);
        StockAuditReport? report = null;
        await Within(CatchUp, async () => (report = await audit.Run()).Result != "behind");
        if (report!.Result != "clean")
            Violated($"stock audit {report.Result}: {string.Join("; ", report.Drifts.Take(5).Select(d => d.Message))}"
                + $"{(report.ReadModelNote is null ? "" : $" ({report.ReadModelNote})")}");
    }

    private static async Task<bool> Within(TimeSpan timeout, Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (await condition()) return true;
            if (DateTime.UtcNow > deadline) return false;
            await Task.Delay(250);
        }
    }
}
