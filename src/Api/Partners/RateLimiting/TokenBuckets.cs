using System.Collections.Concurrent;

namespace Steller.Api.Partners.RateLimiting;

/// <summary>What one take from a bucket gave: admitted or not, whole tokens left, and when to come back.</summary>
/// <param name="RetryAfterSeconds">Seconds until one token is back (0 when admitted).</param>
/// <param name="ResetSeconds">Seconds until the bucket is full again.</param>
public readonly record struct Admission(bool Admitted, long Remaining, int RetryAfterSeconds, int ResetSeconds);

/// <summary>
/// Token buckets by key, in this process's memory: each holds up to <c>burst</c> tokens and refills at <c>rate</c> per second;
/// a request takes one. The parameters come with every take, so a changed limit applies from the next request on.
/// </summary>
public sealed class TokenBuckets
{
    private sealed class Bucket(double tokens, long at)
    {
        public double Tokens = tokens;
        public long At = at;
        public double Rate, Burst;
    }

    private readonly ConcurrentDictionary<string, Bucket> buckets = new(StringComparer.Ordinal);

    public int Count => buckets.Count;

    public Admission Take(string key, double rate, double burst, DateTimeOffset now)
    {
        var bucket = buckets.GetOrAdd(key, _ => new Bucket(burst, now.UtcTicks));
        lock (bucket)
        {
            Refill(bucket, rate, burst, now);
            var admitted = bucket.Tokens >= 1;
            if (admitted) bucket.Tokens -= 1;
            return new Admission(admitted, (long)Math.Floor(bucket.Tokens),
                admitted ? 0 : Seconds((1 - bucket.Tokens) / rate), Seconds((burst - bucket.Tokens) / rate));
        }
    }

    /// <summary>True when the bucket has no whole token now (takes nothing).</summary>
    public bool IsEmpty(string key, double rate, double burst, DateTimeOffset now, out Admission state)
    {
        state = new Admission(true, (long)burst, 0, 0);
        if (!buckets.TryGetValue(key, out var bucket)) return false;
        lock (bucket)
        {
            Refill(bucket, rate, burst, now);
            state = new Admission(bucket.Tokens >= 1, (long)Math.Floor(bucket.Tokens),
                bucket.Tokens >= 1 ? 0 : Seconds((1 - bucket.Tokens) / rate), Seconds((burst - bucket.Tokens) / rate));
            return bucket.Tokens < 1;
        }
    }

    /// <summary>Forgets buckets that are full again (a new one starts full, so nothing changes); bounds memory.</summary>
    public int Prune(DateTimeOffset now)
    {
        var removed = 0;
        foreach (var (key, bucket) in buckets)
        {
            bool full;
            lock (bucket)
            {
                if (bucket.Rate <= 0) continue;
                Refill(bucket, bucket.Rate, bucket.Burst, now);
                full = bucket.Tokens >= bucket.Burst;
            }
            if (full && buckets.TryRemove(new KeyValuePair<string, Bucket>(key, bucket))) removed++;
        }
        return removed;
    }

    private static void Refill(Bucket bucket, double rate, double burst, DateTimeOffset now)
    {
        var elapsed = Math.Max(0, now.UtcTicks - bucket.At) / (double)TimeSpan.TicksPerSecond; // a clock going back refills nothing
        bucket.Tokens = Math.Min(burst, bucket.Tokens + elapsed * rate);
        bucket.At = Math.Max(bucket.At, now.UtcTicks);
        (bucket.Rate, bucket.Burst) = (rate, burst);
    }

    private static int Seconds(double seconds) => seconds <= 0 ? 0 : (int)Math.Min(int.MaxValue, Math.Ceiling(seconds));
}
