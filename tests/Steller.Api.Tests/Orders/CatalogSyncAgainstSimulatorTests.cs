using System.Net.Http.Json;
using FluentAssertions;
using Microsoft.Extensions.DependencyInjection;
using NUnit.Framework;
using Steller.Application.Catalog;
using Steller.Testing;

namespace Steller.Api.Tests.Orders;

/// <summary>The catalog sync over HTTP against the simulated vendors: whole catalogs within the rate limit, only real changes appended.</summary>
public sealed class CatalogSyncAgainstSimulatorTests() : OrderFixture("catalogsim")
{
    [Test, CancelAfter(120_000)]
    public async Task a_second_sync_with_nothing_changed_appends_nothing_even_through_a_429_burst()
    {
        var sync = factory.Services.GetRequiredService<CatalogSync>();
        var before = await db.Scalar<long>("select count(*) from es.events where stream_id like 'product-%'");
        before.Should().BeGreaterThan(10, "the fixture's first sync listed both catalogs");

        // The vendor throttles the next catalog pages: the adapter waits as told (Retry-After) and carries on.
        await sim.Script(new { vendor = "giftcard", operation = "catalog", action = "status", status = 429, retryAfterSeconds = 1, times = 2 });
        var reports = await sync.RunAll(CancellationToken.None);

        reports.Should().OnlyContain(r => r.Error == null && r.Changed == 0, "nothing changed at the vendors");
        (await db.Scalar<long>("select count(*) from es.events where stream_id like 'product-%'")).Should().Be(before, "a sync appends only real changes");
        var catalogCalls = await sim.Requests("giftcard", "catalog");
        catalogCalls.Count(r => r.Status == 429).Should().Be(2);
        catalogCalls.Should().Contain(r => r.Status == 200);
        // After the 429 the next call waited at least the Retry-After second.
        var throttled = catalogCalls.Last(r => r.Status == 429);
        catalogCalls.First(r => r.Seq > throttled.Seq).At.Should().BeOnOrAfter(throttled.At.AddSeconds(0.95));
    }
}
