using System.Net.Http.Json;
using FluentAssertions;
using NUnit.Framework;
using Steller.Testing;

namespace Steller.Cli.Tests.Cluster;

/// <summary>
/// Every log follower with a checkpoint (each projection and each process manager: fulfilment, aftermath, the webhook
/// message follower, transfers) has exactly one runner across API processes, and another process takes it over within
/// seconds when its runner's process is killed.
/// </summary>
public sealed class FollowerHandoverTests
{
    [Test, CancelAfter(300_000)]
    public async Task each_follower_runs_on_one_of_two_api_processes_and_moves_to_the_other_within_seconds_of_a_kill()
    {
        await using var db = await TestDatabase.Create("handover");
        var a = await StellerProcess.StartApi(Nodes.Env(db, node: "node-a"));
        using var _a = a.Process;
        // The first node leads everything once it has registered its followers.
        await Nodes.LeadsEverything(db, "node-a", TimeSpan.FromSeconds(90));
        var b = await StellerProcess.StartApi(Nodes.Env(db, node: "node-b"));
        using var _b = b.Process;
        using var http = new HttpClient { BaseAddress = b.Url, Timeout = TimeSpan.FromSeconds(10) };
        await Admin.Authorize(http, db);
        await Task.Delay(TimeSpan.FromSeconds(3)); // node-b's workers are up and trying for leadership
        var both = await Nodes.Leaders(db);
        TestContext.Out.WriteLine($"followers: {string.Join(", ", both.Keys.Order())}");
        both.Keys.Should().Contain(["order_fulfilment", "order_aftermath"], "process managers are followers like projections");
        both.Values.Should().OnlyContain(l => l.Count == 1 && l[0] == "node-a", "one runner each, and the standby node runs none");

        a.Process.Kill(); // SIGKILL: the session holding every leadership lock dies with the process
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await Eventually.True(async () => (await Nodes.Leaders(db)).Values.All(l => l.SequenceEqual(["node-b"])),
            TimeSpan.FromSeconds(60), "node-b leads every follower");
        var handover = clock.Elapsed;
        TestContext.Out.WriteLine($"every follower moved to node-b {handover.TotalSeconds:0.0} s after the kill");
        handover.Should().BeLessThan(TimeSpan.FromSeconds(15), "standby workers retry leadership every second");

        // And they work there: a deposit made through node-b reaches the balances read model, now projected by node-b.
        (await http.PostAsJsonAsync("/admin/partners", new { partnerId = "afterkill", name = "After kill", contactEmail = "ops@example.com" }))
            .EnsureSuccessStatusCode();
        (await http.PostAsJsonAsync("/admin/partners/afterkill/wallets", new { currency = "EUR" })).EnsureSuccessStatusCode();
        var deposit = new HttpRequestMessage(HttpMethod.Post, "/admin/partners/afterkill/wallets/EUR/deposits")
            { Content = JsonContent.Create(new { amount = 12_345, reference = "after-kill" }) };
        deposit.Headers.Add("Idempotency-Key", "after-kill");
        (await http.SendAsync(deposit)).EnsureSuccessStatusCode();
        await Eventually.True(async () => await db.Scalar<long>("select coalesce(sum(posted), 0) from read.wallet_balances where account = 'wallet:afterkill:EUR'") == 12_345,
            TimeSpan.FromSeconds(30), "read.wallet_balances shows the deposit");
    }
}
