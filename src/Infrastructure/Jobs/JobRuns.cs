using Prometheus;
using Quartz;
using Quartz.Extensibility;

namespace Steller.Infrastructure.Jobs;

/// <summary>
/// Counts every job run on this node into <c>steller_job_runs_total{job}</c>: across a cluster the sum over the nodes is the
/// number of firings (each firing runs on one node), which is what the cluster tests compare with Quartz's own count.
/// </summary>
public sealed class JobRuns : IJobListener
{
    public static readonly Counter Runs = Metrics.CreateCounter("steller_job_runs_total",
        "Scheduled job runs started on this node (Quartz, clustered: each firing runs on one node).", "job");

    public string Name => "steller-job-runs";

    public ValueTask JobToBeExecuted(IJobExecutionContext context, CancellationToken cancellationToken = default)
    {
        Runs.WithLabels(context.JobDetail.Key.Name).Inc();
        return ValueTask.CompletedTask;
    }

    public ValueTask JobExecutionVetoed(IJobExecutionContext context, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

    public ValueTask JobWasExecuted(IJobExecutionContext context, JobExecutionException? jobException,
        CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

    public ValueTask JobProgressChanged(IJobExecutionContext context, FireInstanceProgress progress,
        CancellationToken cancellationToken = default) => ValueTask.CompletedTask;
}
