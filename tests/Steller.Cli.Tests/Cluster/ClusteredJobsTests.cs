using System.Text.RegularExpressions;
using FluentAssertions;
using NUnit.Framework;
using Steller.Testing;

namespace Steller.Cli.Tests.Cluster;

/// <summary>
/// Quartz on its clustered PostgreSQL job store (quartz.qrtz_*): API processes on one database share one schedule, each
/// firing runs on one node, and a killed node's triggers are recovered by another. The job watched is the retention job
/// (every second here). The fulfilment poller and the hold expiry, Quartz jobs until issue 11, are loops on one node by
/// advisory lock now, and the first test checks that each runs on one of the two processes only.
/// </summary>
public sealed class ClusteredJobsTests
{
    private const string Retention = "steller_job_runs_total{job=\"retention\"}";
    private const string HoldExpiry = "steller_job_runs_total{job=\"hold-expiry\"}";
    private const string HoldExpiryLeads = "steller_leader_loop_active{loop=\"hold-expiry\"}";
    private const string Poller = "steller_job_runs_total{job=\"fulfilment-poller\"}";
    private const string PollerLeads = "steller_leader_loop_active{loop=\"fulfilment-poller\"}";

    [Test, CancelAfter(240_000)]
    public async Task two_api_processes_on_one_database_run_each_scheduled_firing_on_one_node_only()
    {
        await using var db = await TestDatabase.Create("quartzonce");
        var env = Nodes.Env(db, new Dictionary<string, string?>
        {
            ["STELLER__Retention__PurgeSeconds"] = "1",
            ["STELLER__Jobs__HoldExpirySeconds"] = "1",
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
                @"Job retention runs the firing scheduled for (\d+)").Select(m => long.Parse(m.Groups[1].Value)).ToList();
        await Eventually.True(() => Task.FromResult(Runs(a).Concat(Runs(b)).Count(t => t >= since) >= 20),
            TimeSpan.FromSeconds(90), "the retention job ran 20 times since both nodes were in the cluster");
        var onA = Runs(a);
        var onB = Runs(b);
        var all = onA.Where(t => t >= since).Concat(onB.Where(t => t >= since)).ToList();
        var span = all.Count == 0 ? 0 : all.Max() - all.Min();
        TestContext.Out.WriteLine($"{all.Count} runs of the 1 s retention job over {span} ms of firings: {onA.Count(t => t >= since)} on a, {onB.Count(t => t >= since)} on b");
        if (all.Count == 0)
            TestContext.Out.WriteLine($"node a wrote {a.Process.Stdout.Length} characters; its last lines: "
                + string.Join("\n", a.Process.Stdout.Split('\n').TakeLast(5)));
        all.Should().HaveCountGreaterThan(10);
        all.GroupBy(t => t).Should().OnlyContain(g => g.Count() == 1, "no firing ran twice (on both nodes, or twice on one)");
        all.Count.Should().BeLessThanOrEqualTo((int)(span / 1000) + 3, "one schedule for the cluster, not one per node");

        // The poller and the hold expiry, outside Quartz: one node runs each loop's passes (every 250 ms, every second),
        // the other stands by and runs none.
        foreach (var (loop, runs, leading, atLeast) in new[] { ("poller", Poller, PollerLeads, 4), ("hold expiry", HoldExpiry, HoldExpiryLeads, 2) })
        {
            var leads = new[] { await Nodes.Metric(a.Url, leading), await Nodes.Metric(b.Url, leading) };
            leads.Sum().Should().Be(1, $"one node runs the {loop}");
            var (runner, standby) = leads[0] == 1 ? (a, b) : (b, a);
            var (ranOnRunner, ranOnStandby) = (await Nodes.Metric(runner.Url, runs), await Nodes.Metric(standby.Url, runs));
            await Task.Delay(TimeSpan.FromSeconds(3));
            (await Nodes.Metric(runner.Url, runs)).Should().BeGreaterThanOrEqualTo(ranOnRunner + atLeast, $"its node runs the {loop}'s passes");
            (await Nodes.Metric(standby.Url, runs)).Should().Be(ranOnStandby, $"the standby node runs no {loop} pass");
        }
    }

    [Test, CancelAfter(240_000)]
    public async Task a_killed_node_is_taken_for_dead_and_its_triggers_recovered_and_its_poller_taken_over()
    {
        await using var db = await TestDatabase.Create("quartzkill");
        var env = Nodes.Env(db, new Dictionary<string, string?>
        {
            ["STELLER__Retention__PurgeSeconds"] = "1",
            ["STELLER__Orders__PollIntervalMilliseconds"] = "200",
        });
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
        var ranBefore = await Nodes.Metric(b.Url, Retention);
        await Eventually.True(async () => await Nodes.Metric(b.Url, Retention) >= ranBefore + 5, TimeSpan.FromSeconds(30),
            "the survivor goes on running the retention job");

        // The poller's loop went with the killed node's session (if it ran there): the survivor runs it now.
        await Eventually.True(async () => await Nodes.Metric(b.Url, PollerLeads) == 1, TimeSpan.FromSeconds(15),
            "the survivor runs the poller");
        var polledBefore = await Nodes.Metric(b.Url, Poller);
        await Eventually.True(async () => await Nodes.Metric(b.Url, Poller) >= polledBefore + 3, TimeSpan.FromSeconds(15),
            "the survivor's poller passes go on");
    }
}
