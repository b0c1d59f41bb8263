using Microsoft.Extensions.Logging;
using Prometheus;
using Quartz;
using Quartz.Extensibility;

namespace Steller.Infrastructure.Jobs;

/// <summary>
/// Counts every job run on this node into <c>steller_job_runs_total{job}</c>: across a cluster the sum over the nodes is the
/// number of firings (each firing runs on one node). At Debug level each run is logged with the time its firing was
/// scheduled for, which is how the cluster tests see that no firing ran on two nodes. The passes of the loops that run on one
/// node by advisory lock instead of Quartz (the fulfilment poller, the pending-order timeout, the hold and reservation expiries: Projections' LeaderLoop) are
/// counted here too, under the names their Quartz jobs had.
/// </summary>
public sealed class JobRuns(ILogger<JobRuns> logger) : IJobListener
{
    public static readonly Counter Runs = Metrics.CreateCounter("steller_job_runs_total",
        "Scheduled job runs started on this node (Quartz, clustered: each firing runs on one node; and the passes of the loops "
        + "that run on the node holding their advisory lock: fulfilment-poller, pending-order-timeout, hold-expiry, reservation-expiry).", "job");

    public string Name => "steller-job-runs";

    public ValueTask JobToBeExecuted(IJobExecutionContext context, CancellationToken cancellationToken = default)
    {
        Runs.WithLabels(context.JobDetail.Key.Name).Inc();
        if (logger.IsEnabled(LogLevel.Debug))
            logger.LogDebug("Job {Job} runs the firing scheduled for {ScheduledFireTime}", context.JobDetail.Key.Name,
                context.ScheduledFireTimeUtc?.ToUnixTimeMilliseconds());
        return ValueTask.CompletedTask;
    }

    public ValueTask JobExecutionVetoed(IJobExecutionContext context, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

    public ValueTask JobWasExecuted(IJobExecutionContext context, JobExecutionException? jobException,
        CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

    public ValueTask JobProgressChanged(IJobExecutionContext context, FireInstanceProgress progress,
        CancellationToken cancellationToken = default) => ValueTask.CompletedTask;
}
