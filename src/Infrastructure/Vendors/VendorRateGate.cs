using System.Threading.RateLimiting;
using Steller.Application.Vendors;

namespace Steller.Infrastructure.Vendors;

/// <summary>
/// The one door to a vendor, shared by every caller in this process: a token bucket (so Steller never exceeds the
/// vendor's rate) plus a pause. When any call gets a 429, <see cref="PauseFor"/> closes the door for the vendor's
/// Retry-After, for all callers at once, not just the one that was refused.
/// </summary>
public sealed class VendorRateGate : IDisposable
{
    private readonly TokenBucketRateLimiter limiter;
    private readonly TimeProvider time;
    private long pausedUntilTicks; // UTC ticks

    public VendorRateGate(string vendor, double requestsPerSecond, int burst, TimeProvider? time = null)
    {
        Vendor = vendor;
        this.time = time ?? TimeProvider.System;
        limiter = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = burst,
            TokensPerPeriod = 1,
            ReplenishmentPeriod = TimeSpan.FromSeconds(1 / requestsPerSecond),
            AutoReplenishment = true,
            QueueLimit = int.MaxValue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
    }

    public string Vendor { get; }

    /// <summary>How long the vendor is still paused (zero when open).</summary>
    public TimeSpan Paused
    {
        get
        {
            var left = Interlocked.Read(ref pausedUntilTicks) - time.GetUtcNow().UtcTicks;
            return left > 0 ? TimeSpan.FromTicks(left) : TimeSpan.Zero;
        }
    }

    /// <summary>Waits until the vendor is not paused and a token is free.</summary>
    public async ValueTask Enter(CancellationToken ct)
    {
        while (true)
        {
            for (var wait = Paused; wait > TimeSpan.Zero; wait = Paused)
                await Task.Delay(wait, time, ct);
            using var lease = await limiter.AcquireAsync(1, ct);
            if (!lease.IsAcquired) throw new VendorUnavailableException(Vendor, "the client-side rate limiter refused the call");
            // A 429 may have paused the vendor while this call queued for its token: wait that out too.
            if (Paused == TimeSpan.Zero) return;
        }
    }

    /// <summary>Closes the door for <paramref name="duration"/> from now (a longer pause already in place wins).</summary>
    public void PauseFor(TimeSpan duration)
    {
        var until = time.GetUtcNow().UtcTicks + duration.Ticks;
        long current;
        do
        {
            current = Interlocked.Read(ref pausedUntilTicks);
            if (current >= until) return;
        } while (Interlocked.CompareExchange(ref pausedUntilTicks, until, current) != current);
    }

    public void Dispose() => limiter.Dispose();
}
