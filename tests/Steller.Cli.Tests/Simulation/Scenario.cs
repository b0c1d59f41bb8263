namespace Steller.Cli.Tests.Simulation;

/// <summary>
/// One generated scenario: everything it does is decided by <see cref="Seed"/> (see <see cref="ScenarioGenerator"/>); only
/// the interleaving of its concurrent steps with Steller's own work varies from run to run. Ids start with <see cref="Prefix"/>,
/// so scenarios sharing one database (and one set of nodes) never touch each other's partners, products or orders.
/// </summary>
public sealed record Scenario(
    int Seed,
    string Prefix,
    IReadOnlyList<SimPartner> Partners,
    SimStock? Stock,
    IReadOnlyList<VendorFault> VendorFaults,
    IReadOnlyList<Step> Steps,
    IReadOnlyList<Fault> Faults,
    IReadOnlyList<FollowUp> FollowUps,
    IReadOnlyList<SimWebhook> Webhooks)
{
    public IEnumerable<PlaceOrder> Orders => Steps.OfType<PlaceOrder>();

    /// <summary>One line per part, for the log of a run and the message of a failure.</summary>
    public string Describe() => string.Join("\n", new[]
        {
            $"scenario {Seed} ({Prefix}): {Partners.Count} partner(s) [{string.Join(", ", Partners.Select(p => $"{p.Id} deposit {p.Deposit} credit {p.CreditLimit}"))}]",
            Stock is null ? "no stocked product" : $"stocked {Stock.Sku}: {Stock.InitialUnits} unit(s) at main",
            $"vendor faults: {(VendorFaults.Count == 0 ? "none" : string.Join(", ", VendorFaults))}",
            $"steps: {string.Join(", ", Steps)}",
            $"faults: {(Faults.Count == 0 ? "none" : string.Join(", ", Faults))}",
            $"follow-ups: {(FollowUps.Count == 0 ? "none" : string.Join(", ", FollowUps))}",
            $"webhook endpoints: {(Webhooks.Count == 0 ? "none" : string.Join(", ", Webhooks))}",
        });
}

/// <param name="Deposit">Minor units of EUR paid in before the steps start (0: none).</param>
public sealed record SimPartner(string Id, long Deposit, long CreditLimit);

/// <summary>
/// A partner's webhook endpoint (registered over the signed API before the steps start, pointing at the world's
/// <see cref="SimWebhookReceiver"/>): every type (<see cref="AllTypes"/>) or the order types only; the receiver fails
/// <see cref="FailPercent"/>% of arrivals (5xx, a 2xx after Steller's timeout, a connection closed without an answer; at most
/// <see cref="SimWebhookReceiver.MaxFailuresPerMessage"/> per message) and answers <see cref="SlowPercent"/>% of the rest slowly
/// (0.2–0.8 s, in time).
/// </summary>
public sealed record SimWebhook(string PartnerId, bool AllTypes, int FailPercent, int SlowPercent)
{
    public override string ToString() => $"{PartnerId} ({(AllTypes ? "every type" : "order types")}, {FailPercent}% failing, {SlowPercent}% slow)";
}

/// <summary>A stocked product (face value <see cref="FaceValue"/>, cost <see cref="UnitCost"/>) with units at location "main".</summary>
public sealed record SimStock(string Sku, long FaceValue, long UnitCost, int InitialUnits);

/// <summary>A line of an order: a vendor product or the scenario's stocked product.</summary>
public sealed record SimLine(string Sku, int Quantity, long FaceValue, bool Stocked)
{
    public override string ToString() => $"{Quantity}x{Sku}@{FaceValue}";
}

/// <summary>Something a partner or an admin does, <see cref="AtMs"/> after the steps start.</summary>
public abstract record Step(int AtMs);

/// <summary>An order, sent <see cref="Copies"/> times at once (duplicates with the same client reference, to random nodes).</summary>
public sealed record PlaceOrder(int AtMs, string PartnerId, string ClientReference, IReadOnlyList<SimLine> Lines, int Copies) : Step(AtMs)
{
    public override string ToString() => $"{AtMs}ms order {ClientReference} by {PartnerId} [{string.Join(" + ", Lines)}]{(Copies > 1 ? $" x{Copies}" : "")}";
}

/// <summary>An admin hold on a partner's wallet that expires <see cref="ExpiresInMinutes"/> after it is placed.</summary>
public sealed record PlaceHold(int AtMs, string PartnerId, string TransferId, long Amount, int ExpiresInMinutes) : Step(AtMs)
{
    public override string ToString() => $"{AtMs}ms hold {TransferId} {Amount} on {PartnerId} for {ExpiresInMinutes}min";
}

/// <summary>An admin reservation of stocked units at "main" that expires <see cref="ExpiresInMinutes"/> after it is made.</summary>
public sealed record Reserve(int AtMs, string ReservationId, int Quantity, int ExpiresInMinutes) : Step(AtMs)
{
    public override string ToString() => $"{AtMs}ms reserve {ReservationId} {Quantity} for {ExpiresInMinutes}min";
}

/// <summary>More stocked units received at "main" (sent twice when <see cref="Twice"/>: the repeat must change nothing).</summary>
public sealed record ReceiveStock(int AtMs, string ReceiptId, int Quantity, bool Twice) : Step(AtMs)
{
    public override string ToString() => $"{AtMs}ms receipt {ReceiptId} +{Quantity}{(Twice ? " x2" : "")}";
}

/// <summary>Stocked units moved from "main" to "shop".</summary>
public sealed record MoveStock(int AtMs, string TransferId, int Quantity) : Step(AtMs)
{
    public override string ToString() => $"{AtMs}ms stock transfer {TransferId} {Quantity} main->shop";
}

/// <summary>Money moved from one partner's EUR wallet to another's (sent twice when <see cref="Twice"/>).</summary>
public sealed record MoveMoney(int AtMs, string From, string To, string TransferId, long Amount, bool Twice) : Step(AtMs)
{
    public override string ToString() => $"{AtMs}ms wallet transfer {TransferId} {Amount} {From}->{To}{(Twice ? " x2" : "")}";
}

/// <summary>A fault of the world, <see cref="AtMs"/> after the steps start.</summary>
public abstract record Fault(int AtMs);

/// <summary><c>kill -9</c> of a node; it is started again (same port) <see cref="RestartAfterMs"/> later.</summary>
public sealed record KillNode(int AtMs, int Node, int RestartAfterMs) : Fault(AtMs)
{
    public override string ToString() => $"{AtMs}ms kill -9 node {Node + 1}, restart {RestartAfterMs}ms later";
}

/// <summary>Every database session of a node is terminated (pg_terminate_backend): its pool must reconnect.</summary>
public sealed record DropConnections(int AtMs, int Node) : Fault(AtMs)
{
    public override string ToString() => $"{AtMs}ms drop node {Node + 1}'s database connections";
}

/// <summary>The shared clock of every node jumps forward (past hold and reservation expiries and the pending-order timeout).</summary>
public sealed record ClockJump(int AtMs, int Minutes) : Fault(AtMs)
{
    public override string ToString() => $"{AtMs}ms clock +{Minutes}min";
}

/// <summary>What an admin does once the scenario's orders have ended.</summary>
public abstract record FollowUp(string ClientReference);

/// <summary>A failed order is retried by an admin (a new round), <see cref="Copies"/> times at once.</summary>
public sealed record RetryIfFailed(string ClientReference, int Copies) : FollowUp(ClientReference)
{
    public override string ToString() => $"retry {ClientReference} if failed{(Copies > 1 ? $" x{Copies}" : "")}";
}

/// <summary>A completed order is refunded: <see cref="Permille"/>/1000 of what was captured, <see cref="Copies"/> times at once.</summary>
public sealed record Refund(string ClientReference, string RefundId, int Permille, int Copies) : FollowUp(ClientReference)
{
    public override string ToString() => $"refund {ClientReference} {Permille}‰ as {RefundId}{(Copies > 1 ? $" x{Copies}" : "")}";
}

/// <summary>
/// A simulator script for one vendor line of one order (<see cref="ClientReference"/>, line <see cref="LineNo"/>): the
/// script targets the request id Steller derives for that line, so which order meets which fault does not depend on timing.
/// </summary>
public sealed record VendorFault(string ClientReference, int LineNo, string Action, int Times, int Status = 0, int DelayMs = 0,
    int Delivered = 0, int Polls = 0)
{
    public override string ToString() => Action switch
    {
        "status" => $"{ClientReference}/{LineNo}: {Status} x{Times}",
        "hang" or "hang-after" or "latency" => $"{ClientReference}/{LineNo}: {Action} {DelayMs}ms x{Times}",
        "partial" => $"{ClientReference}/{LineNo}: partial ({Delivered} delivered)",
        "slow" => $"{ClientReference}/{LineNo}: slow ({Polls} polls)",
        _ => $"{ClientReference}/{LineNo}: {Action}",
    };
}
