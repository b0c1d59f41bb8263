using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FluentAssertions;
using NUnit.Framework;
using Steller.Cli.Tests.Cluster;
using Steller.Testing;

namespace Steller.Cli.Tests.Simulation;

/// <summary>
/// Regression test for what the simulation found with seed 103: a request that meets a database session the server
/// terminated was answered 500 internal_error. It is a moment's unavailability, so the answer is 503 database_unavailable
/// with a retry hint, and the same request succeeds when sent again.
/// </summary>
public sealed class DroppedDatabaseConnectionTests
{
    [Test, CancelAfter(180_000)]
    public async Task requests_that_meet_a_terminated_database_session_are_answered_503_database_unavailable_never_500()
    {
        await using var db = await TestDatabase.Create("droppedconn");
        var node = await StellerProcess.StartApi(Nodes.Env(db, node: "drop-node"));
        using var _ = node.Process;
        using var http = new HttpClient { BaseAddress = node.Url, Timeout = TimeSpan.FromSeconds(30) };
        await Admin.Authorize(http, db);
        (await http.PostAsJsonAsync("/admin/partners", new { partnerId = "dropped", name = "Dropped", contactEmail = "ops@example.com" })).EnsureSuccessStatusCode();
        (await http.PostAsJsonAsync("/admin/partners/dropped/wallets", new { currency = "EUR" })).EnsureSuccessStatusCode();
        async Task<HttpResponseMessage> Deposit(string key)
        {
            var deposit = new HttpRequestMessage(HttpMethod.Post, "/admin/partners/dropped/wallets/EUR/deposits")
                { Content = JsonContent.Create(new { amount = 1_00, reference = key }) };
            deposit.Headers.Add("Idempotency-Key", key);
            return await http.SendAsync(deposit);
        }
        // Deposits in flight from 8 clients while the server terminates every session of the node, ten times over, and then
        // for a while without.
        var answers = new System.Collections.Concurrent.ConcurrentBag<(HttpStatusCode Status, string? Code)>();
        var stop = new CancellationTokenSource();
        var clients = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                using var response = await Deposit($"w{w}-{i}");
                var body = await response.Content.ReadAsStringAsync();
                string? code = null;
                if (!response.IsSuccessStatusCode && JsonDocument.Parse(body).RootElement.TryGetProperty("code", out var c)) code = c.GetString();
                answers.Add((response.StatusCode, code));
            }
        })).ToList();
        for (var round = 0; round < 10; round++)
        {
            await Task.Delay(500);
            await using var kill = db.DataSource.CreateCommand("select count(pg_terminate_backend(pid)) from pg_stat_activity where application_name = 'drop-node'");
            await kill.ExecuteScalarAsync();
        }
        await Task.Delay(TimeSpan.FromSeconds(3)); // and some time without terminations
        await stop.CancelAsync();
        await Task.WhenAll(clients);
        TestContext.Out.WriteLine(string.Join(", ", answers.GroupBy(a => $"{(int)a.Status} {a.Code}").Select(g => $"{g.Count()} x {g.Key}")));
        answers.Should().NotContain(a => a.Status == HttpStatusCode.InternalServerError);
        answers.Should().Contain(a => a.Status == HttpStatusCode.ServiceUnavailable && a.Code == "database_unavailable",
            "requests in flight met the terminated sessions");
        answers.Should().Contain(a => a.Status == HttpStatusCode.Created, "the pool reconnects: deposits between the terminations succeed");
    }
}
