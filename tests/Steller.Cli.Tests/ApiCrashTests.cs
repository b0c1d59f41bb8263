using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FluentAssertions;
using NUnit.Framework;
using Steller.Application.Serialization;
using Steller.Domain.Wallets;
using Steller.Testing;

namespace Steller.Cli.Tests;

/// <summary>kill -9 of the API in the middle of a load of holds and captures; restart; nothing accepted is lost or doubled.</summary>
public sealed class ApiCrashTests
{
    [Test, CancelAfter(240_000)]
    public async Task killing_the_api_during_holds_and_captures_loses_and_doubles_nothing_it_accepted()
    {
        await using var db = await TestDatabase.Create("apikill");
        var env = new Dictionary<string, string?>
        {
            ["STELLER__Database__ConnectionString"] = db.ConnectionString,
            ["STELLER__Security__MasterKey"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)),
        };
        const string partner = "crashp";

        var api = await StellerProcess.StartApi(env);
        using var firstProcess = api.Process; // killed below; disposed (and killed) whatever happens
        using var http = new HttpClient { BaseAddress = api.Url, Timeout = TimeSpan.FromSeconds(10) };
        await Admin.Authorize(http, db);
        (await http.PostAsJsonAsync("/admin/partners", new { partnerId = partner, name = "Crash test", contactEmail = "ops@example.com" })).EnsureSuccessStatusCode();
        (await http.PostAsJsonAsync($"/admin/partners/{partner}/wallets", new { currency = "EUR" })).EnsureSuccessStatusCode();
        var deposit = new HttpRequestMessage(HttpMethod.Post, $"/admin/partners/{partner}/wallets/EUR/deposits") { Content = JsonContent.Create(new { amount = 1_000_000, reference = "seed" }) };
        deposit.Headers.Add("Idempotency-Key", "seed");
        (await http.SendAsync(deposit)).EnsureSuccessStatusCode();

        var acceptedHolds = new ConcurrentDictionary<string, bool>();
        var acceptedCaptures = new ConcurrentDictionary<string, bool>();
        using var stopLoad = new CancellationTokenSource();
        var load = Enumerable.Range(0, 16).Select(c => Task.Run(async () =>
        {
            for (var i = 0; !stopLoad.IsCancellationRequested; i++)
            {
                var id = $"h-{c}-{i}";
                try
                {
                    var hold = await http.PostAsJsonAsync($"/admin/partners/{partner}/wallets/EUR/holds", new { transferId = id, amount = 1 });
                    if (hold.StatusCode != HttpStatusCode.Created) continue;
                    acceptedHolds[id] = true;
                    var capture = await http.PostAsJsonAsync($"/admin/partners/{partner}/wallets/EUR/holds/{id}/capture", new { amount = 1 });
                    if (capture.StatusCode == HttpStatusCode.Created) acceptedCaptures[id] = true;
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { await Task.Delay(20); } // the server is gone
            }
        })).ToArray();

        await Eventually.True(() => Task.FromResult(acceptedCaptures.Count >= 300), TimeSpan.FromSeconds(90), "the load is under way");
        api.Process.Kill(); // SIGKILL in the middle of it
        await Task.Delay(500);
        // Same address: the load goes on against the restarted process.
        var restarted = await StellerProcess.StartApi(env, api.Url.Port);
        using var secondProcess = restarted.Process;
        var capturesBeforeRestart = acceptedCaptures.Count;
        await Eventually.True(() => Task.FromResult(acceptedCaptures.Count > capturesBeforeRestart + 50), TimeSpan.FromSeconds(60), "the load resumes on the restarted API");
        using var http2 = new HttpClient { BaseAddress = restarted.Url };
        await Admin.Authorize(http2, db);
        stopLoad.Cancel();
        await Task.WhenAll(load);

        // Every accepted command is in the ledger exactly once.
        var registry = EventTypeRegistry.ForDomain();
        var events = (await db.CreateEventStore().ReadStream($"wallet-{partner}-EUR")).Events
            .Select(e => (IWalletEvent)registry.Deserialize(e.Type, e.Data.Span)!).ToList();
        var holds = events.OfType<HoldPlaced>().GroupBy(h => h.TransferId).ToDictionary(g => g.Key, g => g.Count());
        var captures = events.OfType<HoldCaptured>().GroupBy(h => h.TransferId).ToDictionary(g => g.Key, g => g.Count());
        acceptedHolds.Keys.Should().OnlyContain(id => holds.ContainsKey(id));
        acceptedCaptures.Keys.Should().OnlyContain(id => captures.ContainsKey(id));
        holds.Values.Should().OnlyContain(n => n == 1);
        captures.Values.Should().OnlyContain(n => n == 1);
        var state = events.Aggregate(Wallet.Empty, Wallet.Evolve);
        state.Posted.Should().Be(1_000_000 - captures.Count);
        state.Pending.Should().Be(holds.Count - captures.Count);

        // The restarted API agrees, and its read model catches up with the ledger.
        var wallet = await http2.GetFromJsonAsync<JsonElement>($"/admin/partners/{partner}/wallets/EUR");
        wallet.GetProperty("posted").GetInt64().Should().Be(state.Posted);
        await Eventually.True(async () => await db.Scalar<long>($"select count(*) from read.wallet_open_holds where stream_id = 'wallet-{partner}-EUR'") == holds.Count - captures.Count,
            TimeSpan.FromSeconds(60), "read.wallet_open_holds lists exactly the holds still open");
        // Finance's audit, run as the real CLI: folds the event store, zero-sum per currency, no drift from the read models.
        await Eventually.True(async () =>
        {
            using var audit = await StellerProcess.RunToEnd(StellerProcess.Cli(env, "ledger", "audit"));
            return audit.ExitCode == 0;
        }, TimeSpan.FromSeconds(60), "steller ledger audit exits 0 (clean)");
    }
}
