using System.Net.Http.Json;
using FluentAssertions;
using NUnit.Framework;
using Steller.Cli.Tests.Cluster;
using Steller.Testing;

namespace Steller.Cli.Tests.Simulation;

/// <summary>
/// Regression test for what the simulation found with seed 103 (a dropped database connection): when the database
/// terminates the session in which a node holds a follower's leadership lock, that node must notice it no longer leads and
/// stand by, so the follower has one runner again and nothing stays faulted (AdvisoryLock's heartbeat and the worker's
/// Confirm after a failed batch). Until the heartbeat tells it, the old node may still apply a batch on a fresh connection;
/// the new leader then finds its checkpoint moved, which once left a fault row here: it now reloads the checkpoint and goes
/// on, recording no fault (CheckpointMovedUnderTheLeaderTests).
/// </summary>
public sealed class LeaderSessionTerminatedTests
{
    [Test, CancelAfter(300_000)]
    public async Task a_node_whose_leadership_sessions_are_terminated_stands_by_and_no_follower_stays_faulted()
    {
        await using var db = await TestDatabase.Create("leaderdrop");
        var a = await StellerProcess.StartApi(Nodes.Env(db, node: "node-a"));
        using var _a = a.Process;
        await Nodes.LeadsEverything(db, "node-a", TimeSpan.FromSeconds(90));
        var b = await StellerProcess.StartApi(Nodes.Env(db, node: "node-b"));
        using var _b = b.Process;
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(3)); // node-b's workers stand by

            await using (var kill = db.DataSource.CreateCommand("select count(pg_terminate_backend(pid)) from pg_stat_activity where application_name = 'node-a'"))
                await kill.ExecuteScalarAsync();
            await Eventually.True(async () => (await Nodes.Leaders(db)).Values.All(l => l.SequenceEqual(["node-b"])),
                TimeSpan.FromSeconds(60), "node-b leads every follower");

            // Events for both nodes' ledger runners: node-b applies them; node-a must not try to.
            using var http = new HttpClient { BaseAddress = b.Url, Timeout = TimeSpan.FromSeconds(30) };
            await Admin.Authorize(http, db);
            (await http.PostAsJsonAsync("/admin/partners", new { partnerId = "dropped", name = "Dropped", contactEmail = "ops@example.com" })).EnsureSuccessStatusCode();
            (await http.PostAsJsonAsync("/admin/partners/dropped/wallets", new { currency = "EUR" })).EnsureSuccessStatusCode();
            var deposit = new HttpRequestMessage(HttpMethod.Post, "/admin/partners/dropped/wallets/EUR/deposits")
                { Content = JsonContent.Create(new { amount = 4_200, reference = "after-drop" }) };
            deposit.Headers.Add("Idempotency-Key", "after-drop");
            (await http.SendAsync(deposit)).EnsureSuccessStatusCode();
            await Eventually.True(async () => await db.Scalar<long>("select coalesce(sum(posted), 0) from read.wallet_balances where account = 'wallet:dropped:EUR'") == 4_200,
                TimeSpan.FromSeconds(30), "read.wallet_balances shows the deposit");

            await Task.Delay(TimeSpan.FromSeconds(5)); // node-a's workers had time to try (and fail) a batch
            (await Faults(db)).Should().BeEmpty("no follower is faulted: one runner each (rows: name | error | attempts | position | failed at)");
            using var ready = new HttpClient { BaseAddress = a.Url, Timeout = TimeSpan.FromSeconds(30) };
            (await ready.GetAsync("/health/ready")).StatusCode.Should().Be(System.Net.HttpStatusCode.OK, "node-a is healthy, standing by");
        }
        catch
        {
            // Explain a failure: what both nodes logged (the fault rows are in the assertion's message).
            TestContext.Out.WriteLine("node-a warnings:\n" + WarningsOf(a.Process) + "\n\nnode-b warnings:\n" + WarningsOf(b.Process));
            throw;
        }
    }

    /// <summary>The rows of steller.projection_faults, one line each: name | error | attempts | position | failed_at.</summary>
    private static async Task<List<string>> Faults(TestDatabase db)
    {
        var rows = new List<string>();
        await using var cmd = db.DataSource.CreateCommand("""
            select concat_ws(' | ', name, error, attempts, coalesce(position, '-'), to_char(failed_at, 'HH24:MI:SS.MS'))
              from steller.projection_faults order by name
            """);
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync()) rows.Add(reader.GetString(0));
        return rows;
    }

    /// <summary>A node's warnings and errors (each entry of the console log: its "warn:"/"fail:" line and the lines under it).</summary>
    private static string WarningsOf(StellerProcess node)
    {
        var entries = new List<string>();
        var keep = false;
        foreach (var line in (node.Stdout + node.Stderr).Split('\n'))
        {
            if (line.Length > 0 && !char.IsWhiteSpace(line[0])) keep = line.StartsWith("warn:", StringComparison.Ordinal)
                || line.StartsWith("fail:", StringComparison.Ordinal) || line.StartsWith("crit:", StringComparison.Ordinal);
            if (keep) entries.Add(line.TrimEnd());
        }
        return string.Join('\n', entries.TakeLast(300));
    }
}
