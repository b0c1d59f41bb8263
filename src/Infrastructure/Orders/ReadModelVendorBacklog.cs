using Dapper;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Prometheus;
using Steller.Application.EventStore;
using Steller.Application.Orders;
using Steller.Domain.Orders;
using Steller.Infrastructure.Configuration;
using Steller.Infrastructure.Vendors;

namespace Steller.Infrastructure.Orders;

/// <summary>
/// The queue at each vendor, read from read.orders / read.order_lines: vendor lines of orders in flight (funds held or
/// submitted) that are not final yet. A vendor's capacity is what its request budget (Vendors:*:RequestsPerSecond) serves
/// within the pending-order timeout (Orders:PendingTimeoutSeconds) at Orders:VendorRequestsPerLine requests a line
/// (a checkout and its status reads); a gift-card checkout carries up to Vendors:GiftCard:MaxLinesPerCheckout lines when
/// lines queue (<see cref="GiftCardCheckoutBatcher"/>), which multiplies what one request serves. Counts are read at most once a second (all vendors in one query) and exported as
/// <c>steller_vendor_queue_depth</c> and <c>steller_vendor_queue_capacity</c>. Lines this node queued that the read model
/// does not show yet (its checkpoint is before their funds-held event) are added from memory: under a burst the read
/// model is seconds behind, and counting only what it shows let a 50 orders/s burst over-fill a vendor's queue.
/// </summary>
public sealed class ReadModelVendorBacklog(NpgsqlDataSource db, VendorSettings vendors, OrderSettings orders) : IVendorBacklog
{
    public static readonly Gauge QueueDepth = Metrics.CreateGauge("steller_vendor_queue_depth",
        "Vendor order lines in flight and not final yet (read.order_lines), per vendor.", "vendor");
    public static readonly Gauge QueueCapacity = Metrics.CreateGauge("steller_vendor_queue_capacity",
        "Lines a vendor's request budget serves within the pending-order timeout; more are refused as vendor_busy.", "vendor");

    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(1);
    /// <summary>The projection behind read.orders (OrdersProjection.ProjectionName; Projections references this assembly, not the reverse).</summary>
    public const string OrdersReadModel = "orders";

    private readonly SemaphoreSlim reading = new(1, 1);
    private IReadOnlyDictionary<string, long> counts = new Dictionary<string, long>();
    /// <summary>Lines queued by this node, by vendor, not yet covered by the orders read model's checkpoint.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, System.Collections.Concurrent.ConcurrentQueue<(LogPosition At, int Lines)>> unseen = new();
    private LogPosition seenUpTo = LogPosition.Start;
    private DateTime readAt = DateTime.MinValue;

    /// <summary>Requests a second Steller allows itself at <paramref name="vendor"/>; null for a vendor it does not call.</summary>
    private double? RequestsPerSecond(string vendor) => vendor switch
    {
        Application.Vendors.VendorKinds.GiftCard => vendors.GiftCard?.Http.RequestsPerSecond,
        Application.Vendors.VendorKinds.TopUp => vendors.TopUp?.Http.RequestsPerSecond,
        _ => null,
    };

    /// <summary>Lines one request serves when the vendor's queue is long (batched checkouts and shared status reads).</summary>
    private int LinesPerRequest(string vendor) =>
        vendor == Application.Vendors.VendorKinds.GiftCard ? vendors.GiftCard?.MaxLinesPerCheckout ?? 1 : 1;

    public long? Capacity(string vendor) => RequestsPerSecond(vendor) is { } rate
        ? (long)Math.Floor(rate * LinesPerRequest(vendor) * orders.PendingTimeoutSeconds / orders.VendorRequestsPerLine) : null;

    public void Accepted(string vendor, int lines, LogPosition position) =>
        unseen.GetOrAdd(vendor, _ => new()).Enqueue((position, lines));

    /// <summary>Lines this node queued at <paramref name="vendor"/> that the read model does not show yet.</summary>
    private long Unseen(string vendor)
    {
        if (!unseen.TryGetValue(vendor, out var queue)) return 0;
        // Positions arrive nearly in order; what the checkpoint covers leaves from the front.
        while (queue.TryPeek(out var first) && first.At.CompareTo(seenUpTo) <= 0) queue.TryDequeue(out _);
        return queue.Sum(e => (long)e.Lines);
    }

    public async Task<VendorBusy?> Busy(string vendor, CancellationToken ct = default)
    {
        if (Capacity(vendor) is not { } capacity || RequestsPerSecond(vendor) is not { } rate) return null;
        var queued = (await Queues(ct)).GetValueOrDefault(vendor) + Unseen(vendor);
        if (queued < capacity) return null;
        // The lines over capacity, and one for this order, at the vendor's pace.
        var wait = TimeSpan.FromSeconds(Math.Max(1, Math.Ceiling((queued - capacity + 1) * orders.VendorRequestsPerLine
            / (rate * LinesPerRequest(vendor)))));
        return new VendorBusy(vendor, queued, capacity, wait);
    }

    /// <summary>Lines queued per vendor (cached for <see cref="CacheFor"/>); empty while read.orders is not built yet.</summary>
    public async Task<IReadOnlyDictionary<string, long>> Queues(CancellationToken ct)
    {
        if (DateTime.UtcNow - readAt < CacheFor) return counts;
        await reading.WaitAsync(ct);
        try
        {
            if (DateTime.UtcNow - readAt < CacheFor) return counts;
            try
            {
                await using var conn = await db.OpenConnectionAsync(ct);
                var rows = await conn.QueryAsync<(string Vendor, long Queued)>(new CommandDefinition("""
                    select l.source, count(*)
                      from read.orders o
                      join read.order_lines l on l.order_id = o.order_id
                     where o.status in ('FundsHeld', 'Submitted') and l.delivered is null and l.source <> @stocked
                     group by l.source
                    """, new { stocked = LineSources.Stocked }, cancellationToken: ct));
                counts = rows.ToDictionary(r => r.Vendor, r => r.Queued);
                var checkpoint = await conn.QuerySingleOrDefaultAsync<(long Commit, long Prepare)?>(new CommandDefinition("""
                    select c.commit_position, c.prepare_position
                      from steller.projections p
                      join steller.projection_checkpoints c on c.name = p.name and c.generation = p.active_generation
                     where p.name = @name
                    """, new { name = OrdersReadModel }, cancellationToken: ct));
                // Read after the counts: what the checkpoint covers now is at least what the counts showed.
                if (checkpoint is { } c) seenUpTo = new LogPosition((ulong)c.Commit, (ulong)c.Prepare);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
            {
                counts = new Dictionary<string, long>(); // first start: read.orders is still being built
            }
            readAt = DateTime.UtcNow;
            foreach (var vendor in new[] { Application.Vendors.VendorKinds.GiftCard, Application.Vendors.VendorKinds.TopUp })
                if (Capacity(vendor) is { } capacity)
                {
                    QueueDepth.WithLabels(vendor).Set(counts.GetValueOrDefault(vendor));
                    QueueCapacity.WithLabels(vendor).Set(capacity);
                }
            return counts;
        }
        finally { reading.Release(); }
    }
}

/// <summary>Keeps the queue gauges current when no order is being placed (every 5 s).</summary>
public sealed class VendorBacklogMetrics(ReadModelVendorBacklog backlog, ILogger<VendorBacklogMetrics> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try { await backlog.Queues(stoppingToken); }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { return; }
            catch (Exception e) { log.LogDebug("Could not read the vendor queues: {Error}", e.Message); }
            try { await Task.Delay(TimeSpan.FromSeconds(5), stoppingToken); }
            catch (OperationCanceledException) { return; }
        }
    }
}
