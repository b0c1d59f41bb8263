using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Npgsql;
using Prometheus;
using Steller.Infrastructure.Jobs;

namespace Steller.Projections.Engine;

/// <summary>
/// A pass that runs every <c>interval</c> on exactly one node at a time: the node holding the loop's advisory lock
/// (purpose "loop", on the process's <see cref="LeadershipSession"/>, like the log followers' leadership). Replaces a
/// clustered Quartz job for frequent passes (issue 11): a Quartz firing costs ~20 statements (trigger row lock,
/// fired-trigger rows, state updates); a pass here costs its own work only, and the standby nodes' attempts ride on the
/// statement their followers send once a second anyway.
/// <para>Passes never overlap; the next begins one interval after the previous began, at once when that one overran (no
/// burst to catch up). An exception in a pass is logged and the loop goes on. A node whose lock is lost (its session
/// terminated: the heartbeat notices within <see cref="AdvisoryLock.HeartbeatInterval"/>) starts no further pass and
/// waits two standby intervals before trying again, so a node standing by takes over; a pass running when the lock
/// goes finishes, so a loop's pass must be safe to run twice at once (the poller's, the timeout's and the expiries' are:
/// fulfilment, cancellation and releases are idempotent). On shutdown the running pass is cancelled and the lock released.</para>
/// </summary>
public sealed class LeaderLoop(NpgsqlDataSource dataSource, string name, TimeSpan interval, Func<CancellationToken, Task> pass,
    ILogger logger)
{
    public const string Purpose = "loop";

    public static readonly Gauge Leading = Metrics.CreateGauge("steller_leader_loop_active",
        "1 on the node that runs the loop's passes (it holds the loop's advisory lock), 0 on the standby nodes.", "loop");

    public string Name => name;
    public TimeSpan Interval => interval;

    /// <summary>True while this node holds the loop's lock and runs its passes.</summary>
    public bool IsLeading { get; private set; }

    private long passes;

    /// <summary>Passes this instance has started.</summary>
    public long Passes => Interlocked.Read(ref passes);

    public async Task Run(CancellationToken ct)
    {
        Leading.WithLabels(name).Set(0); // exported from the start, on standby nodes too
        var lostBefore = false;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                await using var leadership = await Acquire(lostBefore, ct);
                IsLeading = true;
                Leading.WithLabels(name).Set(1);
                logger.LogInformation("{Loop} runs on this node, a pass every {Interval} ms", name, interval.TotalMilliseconds);
                try { await Lead(leadership, ct); }
                finally
                {
                    IsLeading = false;
                    Leading.WithLabels(name).Set(0);
                }
                lostBefore = !ct.IsCancellationRequested;
                if (lostBefore) logger.LogWarning("{Loop} lost its leadership lock; standing by", name);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
    }

    private async Task Lead(AdvisoryLock leadership, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested && leadership.IsHeld)
        {
            var began = Stopwatch.GetTimestamp();
            Interlocked.Increment(ref passes);
            JobRuns.Runs.WithLabels(name).Inc();
            try { await pass(ct); }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { throw; }
            catch (Exception e)
            {
                logger.LogError(e, "A pass of {Loop} failed; the next one runs as scheduled", name);
                // A failure may be the database cutting this node's session: ask before the next pass rather than up to a
                // heartbeat later.
                if (!await leadership.Confirm(ct)) return;
            }
            var wait = interval - Stopwatch.GetElapsedTime(began);
            if (wait > TimeSpan.Zero) await Task.Delay(wait, ct);
        }
    }

    /// <summary>
    /// Takes the loop's lock, trying on the ticks of <see cref="ProjectionWorker.StandbyInterval"/> with the process's other
    /// standbys (one statement for all). Having just lost it (<paramref name="lostBefore"/>), it first waits two intervals,
    /// so a node standing by takes over rather than this one, whose connections are suspect, taking it straight back.
    /// </summary>
    private async Task<AdvisoryLock> Acquire(bool lostBefore, CancellationToken ct)
    {
        if (lostBefore) await Task.Delay(2 * ProjectionWorker.StandbyInterval, ct);
        while (true)
        {
            try
            {
                if (await AdvisoryLock.TryAcquire(dataSource, Purpose, name, ct) is { } held) return held;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning("{Loop} cannot reach the database for its leadership lock: {Error}", name, e.Message);
            }
            await Task.Delay(AdvisoryLock.UntilNextAttempt(ProjectionWorker.StandbyInterval), ct);
        }
    }
}
