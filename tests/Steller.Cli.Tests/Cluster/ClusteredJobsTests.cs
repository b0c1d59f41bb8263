using System.Text.RegularExpressions;
using FluentAssertions;
using NUnit.Framework;
using Steller.Testing;

namespace Steller.Cli.Tests.Cluster;

/// <summary>
/// Quartz on its clustered PostgreSQL job store (quartz.qrtz_*): API processes on one database share one schedule, each
/// firing runs on one node, and a killed node's triggers are recovered by another.
/// </summary>
public sealed class ClusteredJobsTests
{
    private const string Poller = "steller_job_runs_total{job=\"fulfilment-poller\"}";

    [Test, CancelAfter(240_000)]
    public async Task two_api_processes_on_one_database_run_each_scheduled_firing_on_one_node_only()
    {
        await using var db = await TestDatabase.Create("quartzonce");
        var env = Nodes.Env(db, new Dictionary<string, string?>
        {
            ["STELLER__Orders__PollIntervalMilliseconds"] = "250",
            ["STELLER__Logging__LogLevel__Steller.Infrastructure.Jobs.JobRuns"] = "Debug", // one line per run, with its firing's time
        });
        var a = await StellerProcess.StartApi(env);
        using var _a = a.Process;
        var b = await StellerProcess.StartApi(env);
        using var _b = b.Process;
        await Eventually.True(async () => await db.Scalar<long>("select count(*) from quartz.qrtz_scheduler_state") == 2,
            TimeSpan.FromSeconds(60), "both nodes checked in to the cluster");
        // Firings scheduled from now on (before, the first node may have had the schedule to itself).
        var since = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        static List<long> Runs(RunningApi node) => Regex.Matches(node.Process.Stdout,
                @"Job fulfilment-poller runs the firing scheduled for (\d+)").Select(m => long.Parse(m.Groups[1].Value)).ToList();
        await Eventually.True(() => Task.FromResult(Runs(a).Concat(Runs(b)).Count(t => t >= since) >= 30),
            TimeSpan.FromSeconds(90), "the poller ran 30 times since both nodes were in the cluster");
        var onA = Runs(a);
        var onB = Runs(b);
        var all = onA.Where(t => t >= since).Concat(onB.Where(t => t >= since)).ToList();
        var span = all.Count == 0 ? 0 : all.Max() - all.Min();
        TestContext.Out.WriteLine($"{all.Count} runs of the 250 ms poller over {span} ms of firings: {onA.Count(t => t >= since)} on a, {onB.Count(t => t >= since)} on b");
        if (all.Count == 0)
            TestContext.Out.WriteLine($"node a wrote {a.Process.Stdout.Length} characters; its last lines: "
                + string.Join("\n", a.Process.Stdout.Split('\n').TakeLast(5)));
        all.Should().HaveCountGreaterThan(10);
        all.GroupBy(t => t).Should().OnlyContain(g => g.Count() == 1, "no firing ran twice (on both nodes, or twice on one)");
        all.Count.Should().BeLessThanOrEqualTo((int)(span / 250) + 3, "one schedule for the cluster, not one per node");
    }

    [Test, CancelAfter(240_000)]
    public async Task a_killed_node_is_taken_for_dead_and_its_triggers_recovered_within_the_check_in_interval_and_threshold()
    {
        await using var db = await TestDatabase.Create("quartzkill");
        var env = Nodes.Env(db, new Dictionary<string, string?> { ["STELLER__Orders__PollIntervalMilliseconds"] = "200" });
        var a = await StellerProcess.StartApi(env);
        using var _a = a.Process;
        await Eventually.True(async () => await db.Scalar<long>("select count(*) from quartz.qrtz_scheduler_state") == 1,
            TimeSpan.FromSeconds(60), "the first node checked in");
        var dead = await db.Scalar<string>("select instance_name from quartz.qrtz_scheduler_state");
        var b = await StellerProcess.StartApi(env);
        using var _b = b.Process;
        await Eventually.True(async () => await db.Scalar<long>("select count(*) from quartz.qrtz_scheduler_state") == 2,
            TimeSpan.FromSeconds(60), "both nodes checked in");
        await Eventually.True(async () => await db.Scalar<long>(
                $"select count(*) from quartz.qrtz_fired_triggers where instance_name = '{dead}'") > 0,
            TimeSpan.FromSeconds(30), "the first node is running a firing");

        a.Process.Kill(); // SIGKILL: its check-in row and its fired triggers stay behind
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await Eventually.True(async () => await db.Scalar<long>(
                $"select count(*) from quartz.qrtz_scheduler_state where instance_name = '{dead}'") == 0,
            TimeSpan.FromSeconds(60), "the surviving node recovered the killed one");
        var recoveredAfter = clock.Elapsed;
        TestContext.Out.WriteLine($"the killed node was recovered {recoveredAfter.TotalSeconds:0.0} s after the kill "
            + "(check-in interval 1 s, threshold 1 s)");
        // Taken for dead once its check-in is interval + threshold late, noticed at the survivor's next check-in (1 s);
        // the rest is slack for a machine loaded by other tests.
        recoveredAfter.Should().BeLessThan(TimeSpan.FromSeconds(15));
        (await db.Scalar<long>($"select count(*) from quartz.qrtz_fired_triggers where instance_name = '{dead}'")).Should().Be(0,
            "its firings in flight were recovered");
        var ranBefore = await Nodes.Metric(b.Url, Poller);
        await Eventually.True(async () => await Nodes.Metric(b.Url, Poller) >= ranBefore + 5, TimeSpan.FromSeconds(30),
            "the survivor goes on running the poller");
    }
}
