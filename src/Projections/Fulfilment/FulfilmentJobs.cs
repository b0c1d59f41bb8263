using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Steller.Application.EventStore;
using Steller.Application.Orders.Cancelling;
using Steller.Application.Orders.Fulfilling;
using Steller.Application.Time;
using Steller.Projections.Engine;
using Steller.Projections.Orders;

namespace Steller.Projections.Fulfilment;

/// <summary>Timings of the fulfilment jobs (section "Orders"): validated at start like every setting.</summary>
public sealed record FulfilmentSchedule(TimeSpan PollInterval, TimeSpan PendingTimeout);

/// <summary>
/// Takes up orders still in flight (funds held or submitted) that nobody moved for a while: vendors that answer
/// "processing", vendors that were down, a process that died mid-way. Each is advanced once per pass; fulfilment is
/// idempotent, so a pass that overlaps with the fulfilment process (or another node) does no harm.
/// </summary>
public sealed class FulfilmentPoller(OrdersQuery query, OrderFulfilment fulfilment, FulfilmentSchedule schedule, IClock clock,
    ILogger<FulfilmentPoller> logger)
{
    public const int BatchSize = 500, Parallelism = 16;

    public async Task<int> Pass(CancellationToken ct)
    {
        IReadOnlyList<string> due;
        try { due = await query.InFlight(clock.UtcNow - schedule.PollInterval, BatchSize, ct); }
        catch (Wallets.ReadModelNotReadyException) { return 0; } // first start: read.orders is still being built
        await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = ct },
                async (orderId, token) =>
        {
            try { await fulfilment.Advance(orderId, $"poll-{orderId}", token); }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogError(e, "Fulfilment of order {OrderId} failed; it stays in flight for the next pass", orderId);
            }
        });
        return due.Count;
    }
}

/// <summary>Cancels orders that were placed but never began fulfilment within the pending timeout, releasing what they held.</summary>
public sealed class PendingOrderTimeout(OrdersQuery query, CancelOrderHandler cancel, FulfilmentSchedule schedule, IClock clock,
    ILogger<PendingOrderTimeout> logger)
{
    public const string Actor = "system:pending-order-timeout";

    public async Task<int> Pass(CancellationToken ct)
    {
        IReadOnlyList<string> due;
        try { due = await query.PendingSince(clock.UtcNow - schedule.PendingTimeout, 500, ct); }
        catch (Wallets.ReadModelNotReadyException) { return 0; }
        var cancelled = 0;
        foreach (var orderId in due)
        {
            var metadata = new EventMetadata($"timeout-{orderId}", $"timeout-{orderId}", Guid.NewGuid(), Actor, clock.UtcNow);
            var outcome = await cancel.Cancel(orderId, $"not submitted within {schedule.PendingTimeout.TotalMinutes:0.#} minutes",
                metadata, ct);
            if (outcome.Succeeded && !outcome.WasRepeat) cancelled++;
        }
        if (cancelled > 0) logger.LogInformation("Cancelled {Count} order(s) pending past the timeout", cancelled);
        return cancelled;
    }
}

/// <summary>
/// Runs the poller and the pending-order timeout on one node of the cluster at a time (<see cref="LeaderLoop"/>, the
/// advisory-lock leadership of the log followers), not as clustered Quartz jobs: a Quartz firing every second cost an
/// idle node ~2,800 of its ~3,900 statements a minute and was the biggest lock wait per order (issue 11).
/// </summary>
public sealed class FulfilmentLoops(Infrastructure.Postgres.NoAppendDataSource locks, FulfilmentPoller poller, PendingOrderTimeout timeout,
    FulfilmentSchedule schedule, ILogger<FulfilmentLoops> logger) : BackgroundService
{
    public const string PollerName = "fulfilment-poller", TimeoutName = "pending-order-timeout";

    /// <summary>How often the timeout looks for orders pending too long: a quarter of the timeout, 1 s to 60 s.</summary>
    public static TimeSpan TimeoutInterval(TimeSpan pendingTimeout) =>
        TimeSpan.FromSeconds(Math.Clamp((int)pendingTimeout.TotalSeconds / 4, 1, 60));

    // The loops' locks are on the pool the followers' locks are on: one leadership session per process holds them all.
    public LeaderLoop Poller { get; } = new(locks.DataSource, PollerName, schedule.PollInterval, ct => poller.Pass(ct), logger);

    public LeaderLoop Timeout { get; } = new(locks.DataSource, TimeoutName, TimeoutInterval(schedule.PendingTimeout),
        ct => timeout.Pass(ct), logger);

    protected override Task ExecuteAsync(CancellationToken ct) => Task.WhenAll(Poller.Run(ct), Timeout.Run(ct));
}
