using FluentAssertions;
using NUnit.Framework;
using Steller.Api.Partners.RateLimiting;

namespace Steller.Api.Tests.Partners;

public sealed class TokenBucketsTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Test]
    public void a_full_bucket_admits_its_burst_then_one_request_per_refill_interval()
    {
        var buckets = new TokenBuckets();
        var admitted = Enumerable.Range(0, 15).Count(_ => buckets.Take("p", rate: 2, burst: 10, T0).Admitted);
        admitted.Should().Be(10);

        var refused = buckets.Take("p", 2, 10, T0);
        refused.Should().Be(new Admission(false, 0, 1, 5), "one token is back in 0.5 s (rounded up), the bucket full in 5 s");

        buckets.Take("p", 2, 10, T0.AddSeconds(0.5)).Admitted.Should().BeTrue();
        buckets.Take("p", 2, 10, T0.AddSeconds(0.5)).Admitted.Should().BeFalse();
        buckets.Take("other", 2, 10, T0).Admitted.Should().BeTrue("every key has its own bucket");
    }

    [Test]
    public void over_any_interval_a_bucket_admits_at_most_its_rate_times_the_interval_plus_its_burst()
    {
        var buckets = new TokenBuckets();
        var admitted = 0;
        for (var ms = 0; ms <= 10_000; ms += 5) // 200 attempts per second for 10 s against 20/s, burst 10
            if (buckets.Take("p", 20, 10, T0.AddMilliseconds(ms)).Admitted) admitted++;
        admitted.Should().BeLessThanOrEqualTo(20 * 10 + 10).And.BeGreaterThanOrEqualTo(20 * 10);
    }

    [Test]
    public void a_clock_that_goes_back_refills_nothing_and_full_buckets_are_pruned()
    {
        var buckets = new TokenBuckets();
        buckets.Take("p", 1, 1, T0).Admitted.Should().BeTrue();
        buckets.Take("p", 1, 1, T0.AddSeconds(-30)).Admitted.Should().BeFalse();
        buckets.Prune(T0.AddSeconds(0.5)).Should().Be(0, "not full yet");
        buckets.Prune(T0.AddSeconds(2)).Should().Be(1);
        buckets.Count.Should().Be(0);
    }
}
