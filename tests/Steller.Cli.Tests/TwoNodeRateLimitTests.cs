using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using FluentAssertions;
using NUnit.Framework;
using Steller.Client;
using Steller.Testing;

namespace Steller.Cli.Tests;

/// <summary>
/// Two API processes on one database, each enforcing its share of every rate limit (RateLimits:Nodes = 2): a partner flooding
/// both at 4x its limit from 32 clients is held to rate x time + burst + the documented overshoot (Nodes - 1).
/// </summary>
public sealed class TwoNodeRateLimitTests
{
    [Test, CancelAfter(300_000)]
    public async Task a_partner_flooding_two_api_processes_at_four_times_its_limit_is_held_to_its_limit_plus_the_documented_overshoot()
    {
        const int rate = 20, burst = 10, nodes = 2, clients = 32;
        await using var db = await TestDatabase.Create("twonodelimits");
        var env = new Dictionary<string, string?>
        {
            ["STELLER__Database__ConnectionString"] = db.ConnectionString,
            ["STELLER__Security__MasterKey"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)),
            ["STELLER__RateLimits__Nodes"] = $"{nodes}",
        };
        using var token = await StellerProcess.RunToEnd(StellerProcess.Cli(env, "admin", "token", "create", "--role", "admin", "--name", "t"),
            TimeSpan.FromSeconds(120));
        token.ExitCode.Should().Be(0, token.Stderr);
        var first = await StellerProcess.StartApi(env);
        using var _1 = first.Process;
        var second = await StellerProcess.StartApi(env);
        using var _2 = second.Process;

        using var admin = new HttpClient { BaseAddress = first.Url };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token.Stdout.Trim());
        async Task<(string, string)> Partner(string id)
        {
            (await admin.PostAsJsonAsync("/admin/partners", new { partnerId = id, name = id, contactEmail = $"ops@{id}.test" })).EnsureSuccessStatusCode();
            var key = await (await admin.PostAsync($"/admin/partners/{id}/api-keys", null)).Content.ReadFromJsonAsync<JsonElement>();
            return (key.GetProperty("keyId").GetString()!, key.GetProperty("secret").GetString()!);
        }
        var (floodKey, floodSecret) = await Partner("flood-co");
        (await admin.PutAsJsonAsync("/admin/partners/flood-co/rate-limit", new { requestsPerSecond = rate, burst })).EnsureSuccessStatusCode();
        var (calmKey, calmSecret) = await Partner("calm-co");

        var urls = new[] { first.Url, second.Url };
        var duration = TimeSpan.FromSeconds(4);
        var interval = 1000.0 * clients / (4 * rate);
        var flood = new ConcurrentBag<HttpResponseMessage>();
        var calm = new ConcurrentBag<HttpStatusCode>();
        var clock = Stopwatch.StartNew();
        var floods = Enumerable.Range(0, clients).Select(async i =>
        {
            using var http = new HttpClient(new SigningHandler(floodKey, floodSecret)) { BaseAddress = urls[i % nodes] }; // round-robin
            for (var due = i * interval / clients; due < duration.TotalMilliseconds; due += interval)
            {
                var wait = due - clock.Elapsed.TotalMilliseconds;
                if (wait > 0) await Task.Delay(TimeSpan.FromMilliseconds(wait));
                flood.Add(await http.GetAsync("/v1/me"));
            }
        });
        var calmer = Task.Run(async () =>
        {
            for (var i = 0; i < 20; i++)
            {
                using var http = new HttpClient(new SigningHandler(calmKey, calmSecret)) { BaseAddress = urls[i % nodes] };
                calm.Add((await http.GetAsync("/v1/me")).StatusCode);
                await Task.Delay(150);
            }
        });
        await Task.WhenAll(floods.Append(calmer));
        var elapsed = clock.Elapsed.TotalSeconds;

        var admitted = flood.Count(r => r.StatusCode == HttpStatusCode.OK);
        var overshoot = nodes - 1;
        TestContext.Out.WriteLine($"{flood.Count} requests over {nodes} processes in {elapsed:0.00} s: {admitted} admitted "
            + $"(bound {Math.Floor(rate * elapsed) + burst + overshoot})");
        admitted.Should().BeLessThanOrEqualTo((int)Math.Floor(rate * elapsed) + burst + overshoot);
        admitted.Should().BeGreaterThanOrEqualTo(burst);
        foreach (var r in flood.Where(r => r.StatusCode != HttpStatusCode.OK))
        {
            r.StatusCode.Should().Be(HttpStatusCode.TooManyRequests);
            r.Headers.RetryAfter.Should().NotBeNull();
            r.Headers.Contains("RateLimit-Policy").Should().BeTrue();
            r.Headers.Contains("RateLimit").Should().BeTrue();
        }
        flood.Count(r => r.StatusCode == HttpStatusCode.TooManyRequests).Should().BeGreaterThan(0);
        calm.Should().HaveCount(20).And.OnlyContain(s => s == HttpStatusCode.OK, "another partner is not limited by this one");
    }
}
