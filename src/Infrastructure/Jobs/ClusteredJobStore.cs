using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Quartz;
using Steller.Infrastructure.Configuration;

namespace Steller.Infrastructure.Jobs;

/// <summary>
/// Where Quartz keeps its schedule: the clustered ADO job store on Steller's own PostgreSQL (tables quartz.qrtz_*, created by
/// migration 0012). Every node of a deployment shares the rows under one scheduler name (<c>Jobs:SchedulerName</c>):
/// a trigger is acquired under Quartz's row lock, so each firing runs on exactly one node; each node checks in every
/// <c>Jobs:CheckinIntervalMilliseconds</c>, and when one stops (kill -9, a lost machine) another recovers its triggers
/// once the check-in is <c>Jobs:CheckinMisfireMilliseconds</c> late. Jobs keep stable names, so a restarted node
/// replaces its declared triggers instead of adding copies.
/// </summary>
public static class ClusteredJobStore
{
    public const string TablePrefix = "quartz.qrtz_";

    public static IQuartzBuilder UseStellerJobStore(this IQuartzBuilder quartz, JobSettings jobs)
    {
        quartz.ConfigureScheduler(s =>
        {
            s.InstanceName = jobs.SchedulerName;
            // Polls for new triggers at least this often; a trigger scheduled on this node wakes it at once anyway.
            s.IdleWaitTime = TimeSpan.FromSeconds(5);
        });
        quartz.AddJobListener(sp => new JobRuns(sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<JobRuns>>()),
            [GroupMatcher<JobKey>.AnyGroup()]);
        quartz.UsePersistentStore(store =>
        {
            // Connections from the process's one NpgsqlDataSource: the same pool, settings and logging as everything else.
            store.UsePostgres(o =>
            {
                o.Provider = DataSourceOptions.Providers.Npgsql;
                o.DataSourceFactory = sp => sp.GetRequiredService<NpgsqlDataSource>();
            });
            store.UseSystemTextJsonSerializer();
            store.ConfigureStore(o =>
            {
                o.TablePrefix = TablePrefix;
                o.SchemaProvisioning = SchemaProvisioning.Validate; // migration 0012 creates the tables; a missing one stops the start
            });
            store.UseClustering(c =>
            {
                c.CheckinInterval = TimeSpan.FromMilliseconds(jobs.CheckinIntervalMilliseconds);
                c.CheckinMisfireThreshold = TimeSpan.FromMilliseconds(jobs.CheckinMisfireMilliseconds);
            });
        });
        return quartz;
    }
}
