using Dapper;
using Npgsql;
using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Application.Time;
using Steller.Application.Vendors;
using Steller.Domain;
using Steller.Domain.Orders;
using Steller.Domain.Wallets;
using Steller.Projections.Wallets;

namespace Steller.Projections.VendorAccounts;

/// <summary>One order whose vendor purchase the vendor has charged but the ledger has not settled yet.</summary>
public sealed record InFlightOrder(string OrderId, string Status, long Amount);

/// <summary>
/// The ledger's balance at a vendor beside the balance the vendor reports, in minor units of <see cref="Currency"/>.
/// <see cref="LedgerBalance"/>: top-ups + reversals − vendor legs of captures (the negative of the account
/// platform:vendor:{vendor}:{ccy}). <see cref="Difference"/> = ledger − vendor; <see cref="InFlight"/>: what the vendor has already
/// charged for purchases not yet settled in the ledger (submitted, hold still open); <see cref="Unexplained"/> = difference − in
/// flight. <see cref="Result"/> is "exact" when nothing is unexplained and the vendor's figure is exact, "drift" otherwise
/// (<see cref="Flagged"/>), each finding in <see cref="DriftLines"/>.
/// </summary>
public sealed record VendorReconciliationReport(
    string Vendor,
    string Currency,
    DateTimeOffset At,
    long LedgerBalance,
    long VendorBalance,
    decimal VendorReported,
    long Difference,
    long InFlight,
    int InFlightOrders,
    IReadOnlyList<InFlightOrder> InFlightSample,
    long Unexplained,
    string Result,
    bool Flagged,
    IReadOnlyList<string> DriftLines,
    string? ReadModelPosition,
    long? ReadModelEventsBehind,
    string? Note)
{
    /// <summary>In-flight orders listed by name (the count and the amount cover them all).</summary>
    public const int SampleSize = 100;
}

/// <summary>
/// Reconciles Steller's prepaid account at one vendor in one currency. Reads the vendor's balance, the ledger's account and its
/// open holds (read.wallet_balances and read.ledger_holds, one snapshot of one projection), and each open hold's order as it
/// stands in its stream; then asks the vendor again and starts over (up to <see cref="Attempts"/> times) when the vendor's
/// balance moved meanwhile, so a purchase in the middle of the reading is not mistaken for drift. The vendor charges a purchase
/// when it is submitted and gives back what it did not deliver; the ledger posts the vendor leg when the order settles. So an
/// order's vendor lines count as in flight while its hold is open: a line not yet final at its whole quantity × unit cost, a
/// final line at its delivered units × unit cost.
/// </summary>
public sealed class VendorReconciliation(IEnumerable<IVendorBalances> balances, NpgsqlDataSource dataSource, IEventStore store,
    AggregateCommands<Order, IOrderCommand, IOrderEvent> orders, IClock clock)
{
    public const int Attempts = 3;
    /// <summary>How long to wait for the ledger read model to reach the head of the log before reading it anyway.</summary>
    public static TimeSpan CatchUpWait { get; set; } = TimeSpan.FromSeconds(5);

    private readonly Dictionary<string, IVendorBalances> byVendor = balances.ToDictionary(b => b.Vendor, StringComparer.Ordinal);

    /// <summary>Vendors whose balance Steller can ask (configured vendor adapters).</summary>
    public IReadOnlyCollection<string> Vendors => byVendor.Keys;

    public bool CanAsk(string vendor) => byVendor.ContainsKey(vendor);

    /// <summary>Currencies in which the ledger has an account at <paramref name="vendor"/>.</summary>
    public async Task<IReadOnlyList<string>> LedgerCurrencies(string vendor, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        if (!await ReadModelExists(conn, ct)) return [];
        return (await conn.QueryAsync<string>(new CommandDefinition(
            "select currency from read.wallet_balances where account like @prefix order by currency",
            new { prefix = $"platform:vendor:{vendor}:%" }, cancellationToken: ct))).ToList();
    }

    /// <exception cref="VendorUnavailableException">The vendor cannot be asked, or its answer cannot be believed.</exception>
    public async Task<VendorReconciliationReport> Run(string vendor, string currency, CancellationToken ct = default)
    {
        if (!byVendor.TryGetValue(vendor, out var client))
            throw new InvalidOperationException($"No balance client for vendor '{vendor}'.");
        var behind = await WaitForLedger(ct);
        var reported = await client.Balance(currency, ct);
        for (var attempt = 1; ; attempt++)
        {
            var (ledger, position, holds) = await ReadLedger(vendor, currency, ct);
            var inFlight = new List<InFlightOrder>();
            foreach (var (orderId, transferId) in holds)
            {
                var (order, _) = await orders.Load(Order.StreamName(orderId), ct);
                if (order.Placed is null || order.Placed.Currency != currency || Order.HoldTransferIdOf(order) != transferId) continue;
                var amount = checked(order.Lines
                    .Where(l => l.Line.Pricing?.Source == vendor && l.RequestId is not null)
                    .Sum(l => (long)(l.Result?.Delivered ?? l.Line.Quantity) * l.Line.Pricing!.UnitCost));
                if (amount != 0) inFlight.Add(new InFlightOrder(orderId, order.Status.ToString(), amount));
            }
            var again = await client.Balance(currency, ct);
            if (again.Minor != reported.Minor && attempt < Attempts) { reported = again; continue; }
            return Report(vendor, currency, ledger, reported, inFlight, position, behind, attempt, again.Minor != reported.Minor);
        }
    }

    private VendorReconciliationReport Report(string vendor, string currency, long ledger, VendorReportedBalance reported,
        List<InFlightOrder> inFlight, LogPosition? position, long? behind, int attempts, bool stillMoving)
    {
        checked
        {
            var inFlightTotal = inFlight.Sum(o => o.Amount);
            var difference = ledger - reported.Minor;
            var unexplained = difference - inFlightTotal;
            var lines = new List<string>();
            if (unexplained != 0)
                lines.Add($"{vendor} {currency}: {Money.Format(unexplained, currency)} unexplained: the ledger holds "
                    + $"{Money.Format(ledger, currency)} at the vendor, the vendor reports {Money.Format(reported.Minor, currency)}, "
                    + $"{Money.Format(inFlightTotal, currency)} is in flight in {inFlight.Count} order(s).");
            if (!reported.Exact)
                lines.Add($"{vendor} {currency}: the vendor reports {reported.Reported}, which has digits below the minor unit "
                    + "(its prices are finer than the ledger's costs).");
            string? note = null;
            if (behind is > 0) note = $"The ledger read model was {behind} event(s) behind the log when it was read.";
            if (stillMoving) note = (note is null ? "" : note + " ") + $"The vendor's balance kept moving over {attempts} readings.";
            return new VendorReconciliationReport(vendor, currency, clock.UtcNow, ledger, reported.Minor, reported.Reported, difference,
                inFlightTotal, inFlight.Count, inFlight.OrderBy(o => o.OrderId, StringComparer.Ordinal).Take(VendorReconciliationReport.SampleSize)
                    .ToList(), unexplained, lines.Count == 0 ? "exact" : "drift", lines.Count > 0, lines, position?.ToString(), behind, note);
        }
    }

    /// <summary>The ledger's balance at the vendor and the open holds of orders in the currency, in one snapshot.</summary>
    private async Task<(long Ledger, LogPosition? Position, List<(string OrderId, string TransferId)> Holds)> ReadLedger(string vendor,
        string currency, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        if (!await ReadModelExists(conn, ct)) return (0, null, []);
        await using var tx = await conn.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);
        var position = await Checkpoint(conn, tx, ct);
        var posted = await conn.QuerySingleOrDefaultAsync<long?>(new CommandDefinition(
            "select posted from read.wallet_balances where account = @account",
            new { account = Accounts.VendorPayable(vendor, currency) }, tx, cancellationToken: ct)) ?? 0;
        var holds = (await conn.QueryAsync<(string, string)>(new CommandDefinition("""
            select order_id, transfer_id from read.ledger_holds
             where status = 'open' and currency = @currency and order_id is not null
             order by order_id
            """, new { currency }, tx, cancellationToken: ct))).ToList();
        await tx.CommitAsync(ct);
        return (checked(-posted), position, holds);
    }

    /// <summary>Waits (briefly) until the ledger projection has applied the whole log; answers how far behind it still is.</summary>
    private async Task<long?> WaitForLedger(CancellationToken ct)
    {
        if (store is not IEventLogStatistics stats) return null;
        var until = DateTimeOffset.UtcNow + CatchUpWait;
        while (true)
        {
            await using var conn = await dataSource.OpenConnectionAsync(ct);
            var checkpoint = await Checkpoint(conn, null, ct);
            var behind = await stats.CountAfter(checkpoint ?? LogPosition.Start, ct);
            if (behind == 0 || DateTimeOffset.UtcNow >= until) return behind;
            await Task.Delay(50, ct);
        }
    }

    private static async Task<LogPosition?> Checkpoint(NpgsqlConnection conn, NpgsqlTransaction? tx, CancellationToken ct) =>
        await conn.QuerySingleOrDefaultAsync<long[]>(new CommandDefinition("""
            select array[c.commit_position, c.prepare_position]
              from steller.projections p
              join steller.projection_checkpoints c on c.name = p.name and c.generation = p.active_generation
             where p.name = @name
            """, new { name = LedgerProjection.ProjectionName }, tx, cancellationToken: ct)) is [var commit, var prepare]
            ? new LogPosition((ulong)commit, (ulong)prepare) : null;

    private static async Task<bool> ReadModelExists(NpgsqlConnection conn, CancellationToken ct) =>
        await conn.ExecuteScalarAsync<bool>(new CommandDefinition(
            "select to_regclass('read.wallet_balances') is not null and to_regclass('read.ledger_holds') is not null", cancellationToken: ct));
}
