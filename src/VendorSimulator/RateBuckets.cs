namespace Steller.VendorSimulator;

/// <summary>One continuous token bucket per (vendor, client). Answers how long to wait when empty.</summary>
public sealed class RateBuckets(TimeProvider time)
{
    private readonly Dictionary<string, (double Tokens, long At)> buckets = new();
    private readonly Lock gate = new();

    /// <summary>Takes a token, or says after how many whole seconds one will be there (at least 1, as Retry-After).</summary>
    public bool TryTake(string key, RateLimitOptions limit, out int retryAfterSeconds)
    {
        retryAfterSeconds = 0;
        if (limit.PerSecond <= 0) return true;
        lock (gate)
        {
            var now = time.GetTimestamp();
            var (tokens, at) = buckets.TryGetValue(key, out var b) ? b : (limit.Burst, now);
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
