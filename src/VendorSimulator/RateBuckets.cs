namespace Steller.VendorSimulator;

/// <summary>One continuous token bucket per (vendor, client). Answers how long to wait when empty.</summary>
public sealed class RateBuckets(TimeProvider time)
{
    private readonly Dictionary<string, (double Tokens, long At)> buckets = new();
    private readonly Lock gate = new();

    /// <summary>The time stamp to give <see cref="TryTake"/> for a request arriving now.</summary>
    public long Now() => time.GetTimestamp();

    /// <summary>
    /// Takes a token for a request that arrived at <paramref name="arrivedAt"/> (from <see cref="Now"/>), or says after
    /// how many whole seconds one will be there (at least 1, as Retry-After). The bucket is refilled up to the request's
    /// arrival, not up to the moment this simulator got round to it: a real vendor meters at its edge, so requests sent
    /// evenly must not count as a burst because a busy simulator (in a test host that is also the load generator) read
    /// them late and together.
    /// </summary>
    public bool TryTake(string key, RateLimitOptions limit, long arrivedAt, out int retryAfterSeconds)
    {
        retryAfterSeconds = 0;
        if (limit.PerSecond <= 0) return true;
        lock (gate)
        {
            var (tokens, at) = buckets.TryGetValue(key, out var b) ? b : (limit.Burst, arrivedAt);
            var now = Math.Max(at, arrivedAt); // requests read out of arrival order refill nothing
            tokens = Math.Min(limit.Burst, tokens + time.GetElapsedTime(at, now).TotalSeconds * limit.PerSecond);
            if (tokens >= 1)
            {
                buckets[key] = (tokens - 1, now);
                return true;
            }
            buckets[key] = (tokens, now);
            retryAfterSeconds = Math.Max(1, (int)Math.Ceiling((1 - tokens) / limit.PerSecond));
            return false;
        }
    }

    public void Reset() { lock (gate) buckets.Clear(); }
}
