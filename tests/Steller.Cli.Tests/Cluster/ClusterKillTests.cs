using System.Text.RegularExpressions;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using FluentAssertions;
using NUnit.Framework;
using Steller.Application.Serialization;
using Steller.Client;
using Steller.Domain.Catalog;
using Steller.Domain.Orders;
using Steller.Testing;

namespace Steller.Cli.Tests.Cluster;

/// <summary>
/// The kill test: three API processes on one database, gift-card orders spread over all three while the vendor answers
/// 429s, 503s, slowly and partially; one node is killed (SIGKILL), then another, then the first is started again.
/// Afterwards every accepted order ended exactly once, the vendor has at most one order per request id and never saw
/// more than its rate limit, read.orders equals the fold of every order's stream, and the ledger and stock audits are clean
/// (their read models equal the folds of the log).
/// Scaled to a shared 2-core machine by default: 5 orders/s for 20 s. The kills come at a quarter and at 62.5 % of the
/// load and the restart at three quarters, as in the full-size run (200/s for 40 s: kills at 10 s and 25 s, restart at
/// 30 s), which a bigger machine runs with
/// <c>STELLER_KILL_ORDERS_PER_SECOND=200 STELLER_KILL_SECONDS=40 ./test.sh --filter ClusterKill</c>.
/// </summary>
public sealed class ClusterKillTests
{
    private static readonly double OrdersPerSecond = Setting("STELLER_KILL_ORDERS_PER_SECOND", 5, 1, 2_000);
    private static readonly TimeSpan LoadFor = TimeSpan.FromSeconds(Setting("STELLER_KILL_SECONDS", 20, 8, 600)),
        FirstKill = LoadFor * 0.25, SecondKill = LoadFor * 0.625, Restart = LoadFor * 0.75;

    private static double Setting(string name, double fallback, double min, double max) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } text
            ? double.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var v) && v >= min && v <= max
                ? v : throw new ArgumentException($"{name} must be a number from {min} to {max}, not '{text}'")
            : fallback;

    [Test, CancelAfter(900_000)]
    public async Task three_nodes_two_killed_and_one_restarted_under_order_load_end_every_accepted_order_exactly_once()
    {
        await using var sim = await SimulatorHost.Start(); // gift cards: 20 requests/s, burst 5 (Steller is told 15/s, burst 3)
        await using var db = await TestDatabase.Create("clusterkill");
        var extra = new Dictionary<string, string?>
        {
            ["STELLER__Orders__PollIntervalMilliseconds"] = "500",
            ["STELLER__RateLimits__Nodes"] = "3",
            // A Quartz job (retention) firing every second, each run logged with its firing's scheduled time: no firing may
            // run twice.
            ["STELLER__Retention__PurgeSeconds"] = "1",
            ["STELLER__Logging__LogLevel__Steller.Infrastructure.Jobs.JobRuns"] = "Debug",
        };
        foreach (var (key, value) in sim.StellerSettings()) extra["STELLER__" + key.Replace(":", "__")] = value;
        var env = Enumerable.Range(1, 3).Select(n => Nodes.Env(db, extra, $"node-{n}")).ToArray();
        var nodes = new RunningApi?[3];
        try
        {
            nodes[0] = await StellerProcess.StartApi(env[0]); // migrates
            nodes[1] = await StellerProcess.StartApi(env[1]);
            nodes[2] = await StellerProcess.StartApi(env[2]);
            var urls = nodes.Select(n => n!.Url).ToArray();

            using var admin = new HttpClient { BaseAddress = urls[2], Timeout = TimeSpan.FromSeconds(30) };
            await Admin.Authorize(admin, db);
            (await admin.PostAsync("/admin/catalog/sync", null)).EnsureSuccessStatusCode();
            var partners = await Onboard(admin, urls, "kill-cluster", 1_000_000_00);
            var sku = Skus.ForVendorProduct("giftcard", "101"); // 25 EUR

            // The vendor misbehaves from the start: rate refusals, outages, slow answers, slow and partial orders.
            await sim.Script(new { vendor = "giftcard", operation = "checkout", action = "status", status = 429, retryAfterSeconds = 1, times = 4 });
            await sim.Script(new { vendor = "giftcard", operation = "checkout", action = "status", status = 503, times = 6 });
            await sim.Script(new { vendor = "giftcard", operation = "order", action = "latency", delayMs = 1500, times = 6 });
            await sim.Script(new { vendor = "giftcard", operation = "checkout", action = "partial", delivered = 1, times = 5 });
            await sim.Script(new { vendor = "giftcard", operation = "checkout", action = "slow", polls = 2, times = 10 });

            var accepted = new ConcurrentDictionary<string, bool>();
            var refused = new ConcurrentBag<string>();
            var clock = Stopwatch.StartNew();
            var total = (int)(OrdersPerSecond * LoadFor.TotalSeconds);
            var load = Enumerable.Range(0, total).Select(async i =>
            {
                await Task.Delay(TimeSpan.FromSeconds(i / OrdersPerSecond));
                var reference = $"k-{i}";
                // Like a load balancer: the order goes to the next node when one refuses the connection.
                for (var attempt = 0; attempt < 3; attempt++)
                {
                    try
                    {
                        var placed = await partners[(i + attempt) % 3].PlaceOrder(reference, [new NewOrderLine(sku, 2, 25_00)]);
                        accepted[placed.OrderId] = true;
                        return;
                    }
                    catch (StellerApiException e) { refused.Add($"{e.Status} {e.Code}"); return; }
                    catch (HttpRequestException) { } // that node is down
                    catch (TaskCanceledException) { } // it died while answering: the order may be placed; not counted as accepted
                }
            }).ToList();
            var killedOutput = new List<string>(); // what the killed nodes wrote, for the firings they ran
            var chaos = Task.Run(async () =>
            {
                await Until(clock, FirstKill);
                nodes[0]!.Process.Kill();
                await Until(clock, SecondKill);
                nodes[1]!.Process.Kill();
                await Until(clock, Restart);
                killedOutput.Add(nodes[0]!.Process.Stdout);
                nodes[0]!.Process.Dispose();
                nodes[0] = await StellerProcess.StartApi(env[0], urls[0].Port);
            });
            await Task.WhenAll(load.Append(chaos));
            TestContext.Out.WriteLine($"{total} orders sent in {clock.Elapsed.TotalSeconds:0.0} s: {accepted.Count} accepted, "
                + $"{refused.Count} refused ({string.Join(", ", refused.GroupBy(r => r).Select(g => $"{g.Count()} x {g.Key}"))})");
            accepted.Should().NotBeEmpty();

            // Every accepted order ends, exactly once.
            var registry = EventTypeRegistry.ForDomain();
            var store = db.CreateEventStore();
            async Task<List<IOrderEvent>> Events(string orderId) => (await store.ReadStream(Order.StreamName(orderId))).Events
                .Select(e => (IOrderEvent)registry.Deserialize(e.Type, e.Data.Span)!).ToList();
            static int Endings(List<IOrderEvent> events) =>
                events.Count(e => e is OrderCompleted or OrderFailed or OrderCancelled or OrderRejected);
            var open = accepted.Keys.ToList();
            await Eventually.True(async () =>
            {
                var still = new List<string>();
                foreach (var id in open) if (Endings(await Events(id)) == 0) still.Add(id);
                open = still;
                return open.Count == 0;
            }, TimeSpan.FromMinutes(5), "every accepted order reached a terminal status");
            var outcomes = new Dictionary<string, int>();
            foreach (var id in accepted.Keys)
            {
                var events = await Events(id);
                Endings(events).Should().Be(1, $"order {id} ends exactly once");
                var end = events.Last(e => e is OrderCompleted or OrderFailed or OrderCancelled or OrderRejected) switch
                {
                    OrderCompleted c => c.Status,
                    var e => e.GetType().Name,
                };
                outcomes[end] = outcomes.GetValueOrDefault(end) + 1;
            }
            TestContext.Out.WriteLine($"outcomes: {string.Join(", ", outcomes.Select(o => $"{o.Value} {o.Key}"))}");

            // read.orders equals the fold of each order's stream: status and money captured, once the projection has caught up.
            var folded = new Dictionary<string, (string Status, long Captured)>();
            foreach (var id in accepted.Keys)
            {
                var state = (await Events(id)).Aggregate(Order.Empty, Order.Evolve);
                folded[id] = (state.Status.ToString(), state.Completion?.Captured ?? 0);
            }
            var differ = new List<string>();
            for (var deadline = DateTime.UtcNow.AddSeconds(120); ; await Task.Delay(200))
            {
                differ.Clear();
                await using var read = await db.DataSource.OpenConnectionAsync();
                await using var cmd = new Npgsql.NpgsqlCommand(
                    "select order_id, status, captured from read.orders where order_id = any($1)", read);
                cmd.Parameters.AddWithValue(accepted.Keys.ToArray());
                var rows = new Dictionary<string, (string, long)>();
                await using (var r = await cmd.ExecuteReaderAsync())
                    while (await r.ReadAsync()) rows[r.GetString(0)] = (r.GetString(1), r.GetInt64(2));
                foreach (var (id, want) in folded)
                    if (!rows.TryGetValue(id, out var got) || got != want) differ.Add($"{id}: read {got}, fold {want}");
                if (differ.Count == 0 || DateTime.UtcNow > deadline) break;
            }
            differ.Should().BeEmpty("read.orders equals the folds of the accepted orders' streams (within 120 s)");

            // The vendor: at most one order per request id, never more than its limit in any second.
            var vendorOrders = await sim.Orders("giftcard");
            vendorOrders.GroupBy(o => o.RequestId).Should().OnlyContain(g => g.Count() == 1, "one vendor order per request id");
            var requests = (await sim.Requests("giftcard")).OrderBy(r => r.At).ToList();
            var busiest = requests.Select((r, i) => requests.Skip(i).TakeWhile(o => o.At < r.At.AddSeconds(1)).Count()).DefaultIfEmpty().Max();
            // The same as the nodes saw it (ops.vendor_calls: when each attempt left, minus what a killed node had not written
            // yet): tells a node that sent too fast from a vendor host that read its requests late and together.
            var sent = new List<DateTime>();
            await using (var read = await db.DataSource.OpenConnectionAsync())
            await using (var cmd = new Npgsql.NpgsqlCommand("select at from ops.vendor_calls where vendor = 'giftcard' order by at", read))
            await using (var rows = await cmd.ExecuteReaderAsync())
                while (await rows.ReadAsync()) sent.Add(rows.GetDateTime(0));
            var busiestSent = sent.Select((t, i) => sent.Skip(i).TakeWhile(o => o < t.AddSeconds(1)).Count()).DefaultIfEmpty().Max();
            TestContext.Out.WriteLine($"vendor: {vendorOrders.Count} orders, {requests.Count} requests, busiest second {busiest} "
                + $"(limit 20/s, burst 5); as sent by the nodes: {sent.Count} attempts recorded, busiest second {busiestSent}");
            foreach (var url in new[] { nodes[0]!.Url, nodes[2]!.Url }) // the restarted node and the one never killed
            {
                using var scrape = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(10) };
                var metrics = await scrape.GetStringAsync("/metrics");
                TestContext.Out.WriteLine($"{url}: " + string.Join("; ", metrics.Split('\n')
                    .Where(l => l.StartsWith("steller_vendor_stale_tokens_total", StringComparison.Ordinal))) + " (stale rate tokens)");
            }
            // The issue's rule is the rate per second: at most 20 requests in any second, both as the nodes sent them and as
            // the vendor received them. The simulator also meters sub-second bursts (a bucket of 5), stamping each request
            // when its host gets round to it; that host is this test process, which shares the cores with three nodes and
            // the load generator, so under load it reads evenly sent requests late and together. Its refusals are printed
            // (a real vendor's 429 is retried after Retry-After: nothing is lost or doubled, as the checks above prove).
            var overRate = requests.Where(r => r.RateLimited).Select(r => r.At.ToString("HH:mm:ss.fff")).ToList();
            TestContext.Out.WriteLine($"vendor refusals as over its rate (burst bucket): {overRate.Count} ({string.Join(", ", overRate)})");
            busiestSent.Should().BeLessThanOrEqualTo(20, "the three nodes together never sent more than the vendor's 20/s in any second");
            busiest.Should().BeLessThanOrEqualTo(20, "the vendor never received more than its 20/s in any second");

            // Each scheduled firing ran once across the nodes, the killed ones included (retention, every second).
            var firings = killedOutput.Concat(nodes.Select(n => n!.Process.Stdout))
                .SelectMany(text => Regex.Matches(text, @"Job retention runs the firing scheduled for (\d+)").Select(m => long.Parse(m.Groups[1].Value)))
                .ToList();
            var firingSpan = firings.Count == 0 ? 0 : (firings.Max() - firings.Min()) / 1000;
            TestContext.Out.WriteLine($"retention: {firings.Count} runs over {firingSpan} s of firings");
            firings.Should().HaveCountGreaterThan(10, "the 1 s retention job kept firing through the kills");
            firings.GroupBy(t => t).Should().OnlyContain(g => g.Count() == 1, "no scheduled firing ran on two nodes, or twice on one");
            firings.Count.Should().BeLessThanOrEqualTo((int)firingSpan + 3, "one schedule for the cluster, not one per node");

            // Ledger and stock: the read models equal the folds of the log (the audits say "behind" until they catch up).
            foreach (var audit in new[] { new[] { "ledger", "audit" }, ["stock", "audit"] })
            {
                // "Behind" until the read models catch up: run again until clean, and show the last answer if it never is.
                var deadline = DateTime.UtcNow.AddSeconds(180);
                while (true)
                {
                    using var run = await StellerProcess.RunToEnd(StellerProcess.Cli(env[2], audit), TimeSpan.FromSeconds(120));
                    if (run.ExitCode == 0) break;
                    if (DateTime.UtcNow > deadline)
                        Assert.Fail($"steller {string.Join(' ', audit)} never exited 0 (clean); its last run said: {run.Stdout}{run.Stderr}");
                    await Task.Delay(500);
                }
            }
        }
        finally
        {
            foreach (var node in nodes) node?.Process.Dispose();
        }
    }

    private static async Task Until(Stopwatch clock, TimeSpan at)
    {
        var wait = at - clock.Elapsed;
        if (wait > TimeSpan.Zero) await Task.Delay(wait);
    }

    private static async Task<StellerClient[]> Onboard(HttpClient admin, Uri[] nodes, string id, long funds)
    {
        (await admin.PostAsJsonAsync("/admin/partners", new { partnerId = id, name = id, contactEmail = $"ops@{id}.test" })).EnsureSuccessStatusCode();
        (await admin.PostAsJsonAsync($"/admin/partners/{id}/wallets", new { currency = "EUR" })).EnsureSuccessStatusCode();
        var deposit = new HttpRequestMessage(HttpMethod.Post, $"/admin/partners/{id}/wallets/EUR/deposits") { Content = JsonContent.Create(new { amount = funds, reference = "seed" }) };
        deposit.Headers.Add("Idempotency-Key", $"seed-{id}");
        (await admin.SendAsync(deposit)).EnsureSuccessStatusCode();
        var key = await (await admin.PostAsync($"/admin/partners/{id}/api-keys", null)).Content.ReadFromJsonAsync<JsonElement>();
        return nodes.Select(n => StellerClient.Create(n, key.GetProperty("keyId").GetString()!, key.GetProperty("secret").GetString()!)).ToArray();
    }
}
