using Steller.Application.Serialization;
using Steller.Application.Webhooks;
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
        await WebhooksDeliveredAtLeastOnceInOrder();
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

    /// <summary>How long deliveries may take to catch up: a node killed mid-delivery leaves its claim to lapse (timeout + 30 s).</summary>
    private static readonly TimeSpan WebhookCatchUp = TimeSpan.FromSeconds(90);

    /// <summary>
    /// The message an order event gives (docs/webhooks.md), or null. Written out here on purpose rather than calling the
    /// follower's own mapping (WebhookEvents.OrderTypeOf): the invariant must not trust the code it checks.
    /// </summary>
    private static string? WebhookTypeOf(IOrderEvent e) => e switch
    {
        OrderCompleted c => c.Status == nameof(OrderStatus.PartiallyCompleted) ? WebhookTypes.OrderPartiallyCompleted : WebhookTypes.OrderCompleted,
        OrderFailed => WebhookTypes.OrderFailed,
        OrderCancelled => WebhookTypes.OrderCancelled,
        OrderRejected => WebhookTypes.OrderRejected,
        OrderRefunded => WebhookTypes.OrderRefunded,
        _ => null,
    };

    /// <summary>
    /// For each subscribed partner (its endpoint at the world's receiver): every message its orders' events give (each ending,
    /// one per round, and each refund) was answered 2xx at least once; every request verified (Standard Webhooks signature with
    /// the endpoint's secret, timestamp on the nodes' clock); one message (order, type, revision) always carried one webhook-id,
    /// and one webhook-id one body; for one order, no message's first 2xx came before an earlier revision's first 2xx unless
    /// the earlier one failed for good (docs/webhooks.md, Delivery); nothing for another partner's orders, nothing that is not
    /// one of those events, and nothing of a type the endpoint did not subscribe to.
    /// </summary>
    private async Task WebhooksDeliveredAtLeastOnceInOrder()
    {
        foreach (var stray in DrainStrays()) Violated($"webhook receiver: a request to no registered endpoint: {stray}");
        foreach (var webhook in scenario.Webhooks)
        {
            var partnerId = webhook.PartnerId;
            var expected = new List<(string OrderId, string Reference, long Revision, string Type)>();
            foreach (var o in scenario.Orders.Where(o => o.PartnerId == partnerId))
            {
                var orderId = Order.IdFor(o.PartnerId, o.ClientReference);
                var (events, _) = await Folds.Events<IOrderEvent>(world.Db, Order.StreamName(orderId));
                for (var revision = 0; revision < events.Count; revision++)
                    if (WebhookTypeOf(events[revision]) is { } type) expected.Add((orderId, o.ClientReference, revision, type));
            }
            var ownOrders = scenario.Orders.Where(o => o.PartnerId == partnerId).Select(o => Order.IdFor(o.PartnerId, o.ClientReference)).ToHashSet(StringComparer.Ordinal);
            WebhookArrival[] arrivals = [];
            await Within(WebhookCatchUp, () =>
            {
                arrivals = world.Receiver.ArrivalsAt(scenario.Seed, partnerId).ToArray();
                var delivered = arrivals.Where(a => a.Delivered && a.SignatureProblem is null).Select(a => (a.OrderId, a.Revision)).ToHashSet();
                return Task.FromResult(expected.All(m => delivered.Contains((m.OrderId, m.Revision))));
            });
            var states = await MessageStates(run.WebhookEndpoints.GetValueOrDefault(partnerId));
            var verified = arrivals.Where(a => a.SignatureProblem is null).ToArray();
            foreach (var bad in arrivals.Where(a => a.SignatureProblem is not null))
                Violated($"webhook to {partnerId}: {bad.WebhookId} ({bad.Type}) refused: {bad.SignatureProblem}");

            var firstDelivered = new Dictionary<(string, long), WebhookArrival>();
            foreach (var a in verified.Where(a => a.Delivered && a.OrderId is not null && a.Revision is not null).OrderBy(a => a.Seq))
                firstDelivered.TryAdd((a.OrderId!, a.Revision!.Value), a);
            foreach (var m in expected.Where(m => !firstDelivered.ContainsKey((m.OrderId, m.Revision))))
            {
                var tries = verified.Where(a => a.OrderId == m.OrderId && a.Revision == m.Revision).ToList();
                var state = tries.Select(a => states.GetValueOrDefault(a.WebhookId)).FirstOrDefault(x => x is not null)
                    ?? await MessageStateOf(run.WebhookEndpoints.GetValueOrDefault(partnerId), m.OrderId, m.Revision);
                Violated($"webhook to {partnerId}: order {m.Reference}'s {m.Type} (revision {m.Revision}) never answered 2xx within "
                    + $"{WebhookCatchUp.TotalSeconds:0} s; arrivals: [{string.Join(", ", tries.Select(a => a.Answer))}]; Steller's log: {state ?? "(no message)"}");
            }

            foreach (var a in verified)
            {
                if (a.OrderId is null)
                {
                    if (!webhook.AllTypes) Violated($"webhook to {partnerId}: {a.Type} ({a.WebhookId}) though it subscribed to order types only");
                    continue;
                }
                if (!ownOrders.Contains(a.OrderId)) Violated($"webhook to {partnerId}: {a.Type} for order {a.OrderId}, not one of its orders");
                else if (!expected.Any(m => m.OrderId == a.OrderId && m.Revision == a.Revision && m.Type == a.Type))
                    Violated($"webhook to {partnerId}: {a.Type} for order {a.OrderId} at revision {a.Revision}, which is no such event of its stream");
            }
            foreach (var message in verified.Where(a => a.OrderId is not null).GroupBy(a => (a.OrderId, a.Type, a.Revision)))
                if (message.Select(a => a.WebhookId).Distinct().Count() > 1)
                    Violated($"webhook to {partnerId}: {message.Key} came with webhook-ids {string.Join(", ", message.Select(a => a.WebhookId).Distinct())}");
            foreach (var sameId in verified.GroupBy(a => a.WebhookId))
                if (sameId.Select(a => a.Body).Distinct().Count() > 1)
                    Violated($"webhook to {partnerId}: repeats of {sameId.Key} carried different bodies");

            foreach (var order in expected.GroupBy(m => m.OrderId))
            {
                var messages = order.OrderBy(m => m.Revision).ToList();
                for (var i = 0; i < messages.Count; i++)
                    for (var j = i + 1; j < messages.Count; j++)
                    {
                        if (!firstDelivered.TryGetValue((order.Key, messages[i].Revision), out var earlier)
                            || !firstDelivered.TryGetValue((order.Key, messages[j].Revision), out var later)
                            || later.Seq > earlier.Seq) continue;
                        if (states.GetValueOrDefault(earlier.WebhookId)?.StartsWith("failed", StringComparison.Ordinal) == true) continue;
                        Violated($"webhook to {partnerId}: order {messages[j].Reference}'s {messages[j].Type} (revision {messages[j].Revision}) was first "
                            + $"delivered at {later.At:HH:mm:ss.fff}, before its {messages[i].Type} (revision {messages[i].Revision}) at {earlier.At:HH:mm:ss.fff}, "
                            + $"which had not failed for good ({states.GetValueOrDefault(earlier.WebhookId) ?? "no message"})");
                    }
            }
        }
    }

    private IEnumerable<string> DrainStrays()
    {
        while (world.Receiver.Strays.TryDequeue(out var stray)) yield return stray;
    }

    /// <summary>Steller's delivery log of an endpoint: "status, N attempt(s)" by webhook-id.</summary>
    private async Task<Dictionary<string, string>> MessageStates(string? endpointId)
    {
        var states = new Dictionary<string, string>(StringComparer.Ordinal);
        if (endpointId is null) return states;
        await using var cmd = world.Db.DataSource.CreateCommand("select id, status, attempts from ops.webhook_messages where endpoint_id = $1");
        cmd.Parameters.AddWithValue(endpointId);
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync()) states[reader.GetString(0)] = $"{reader.GetString(1)}, {reader.GetInt32(2)} attempt(s)";
        return states;
    }

    private async Task<string?> MessageStateOf(string? endpointId, string orderId, long revision)
    {
        if (endpointId is null) return null;
        await using var cmd = world.Db.DataSource.CreateCommand(
            "select id || ' ' || status || ', ' || attempts || ' attempt(s)' from ops.webhook_messages where endpoint_id = $1 and ordering_key = $2 and sequence = $3");
        cmd.Parameters.AddWithValue(endpointId);
        cmd.Parameters.AddWithValue(orderId);
        cmd.Parameters.AddWithValue(revision);
        return await cmd.ExecuteScalarAsync() as string;
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
