using System.Diagnostics;
using Steller.Application.Vendors;

namespace Steller.Infrastructure.Vendors;

/// <summary>
/// The one door to a vendor, shared by every caller in this process: a token bucket (so Steller never exceeds the
/// vendor's rate) plus a pause. When any call gets a 429, <see cref="PauseFor"/> closes the door for the vendor's
/// Retry-After, for all callers at once, not just the one that was refused.
/// <para>
/// With a <see cref="IVendorRateBudget"/> (the API: <see cref="PostgresVendorRateBudget"/>) the bucket and the pause live
/// in PostgreSQL and are shared by every node, so N nodes together send no more than the vendor's rate. One ask at a time
/// goes to the database from this process, for every caller waiting when it leaves (up to <see cref="MostPerAsk"/>): a
/// caller that arrives while an ask is in flight is served by the next one, with the others that arrived meanwhile. The
/// tokens of one ask are granted at one instant to callers already waiting, so the vendor sees what the same takes one
/// by one would have sent, and a busy node makes one round trip per batch, not per call. Without a shared budget (no
/// database) the bucket is this process's.
/// </para>
/// <para>
/// The bucket refills continuously (<see cref="Burst"/> tokens, <see cref="RequestsPerSecond"/> per second, computed
/// from elapsed time when a caller arrives), as vendors meter it. System.Threading.RateLimiting's
/// TokenBucketRateLimiter adds whole tokens on timer ticks whose phase is unrelated to the calls, so right after a
/// burst a tick can let one more call through at once (seen here: 3 calls within 92 ms from a burst-2, 4.5/s bucket,
/// which a vendor metering 5/s with burst 2 refuses with 429). Callers are served one at a time, in arrival order.
/// </para>
/// </summary>
public sealed class VendorRateGate : IDisposable
{
    private readonly TimeProvider time;
    private readonly SemaphoreSlim turn = new(1, 1);
    private readonly Lock gate = new();
    private double tokens;
    private long refilledAt;
    private long pausedUntilTicks; // UTC ticks

    private readonly IVendorRateBudget? shared;
    private readonly Queue<TaskCompletionSource<long>> waiting = new(); // callers of the shared budget; under gate
    private bool asking; // a loop is asking the shared budget for the waiting callers; under gate
    private readonly CancellationTokenSource closing = new();

    /// <summary>The most tokens one ask of the shared budget takes (the callers waiting beyond it are served next).</summary>
    public const int MostPerAsk = 64;

    public VendorRateGate(string vendor, double requestsPerSecond, int burst, TimeProvider? time = null, IVendorRateBudget? shared = null)
    {
        this.shared = shared;
        if (requestsPerSecond <= 0) throw new ArgumentOutOfRangeException(nameof(requestsPerSecond));
        if (burst < 1) throw new ArgumentOutOfRangeException(nameof(burst));
        Vendor = vendor;
        RequestsPerSecond = requestsPerSecond;
        Burst = burst;
        this.time = time ?? TimeProvider.System;
        tokens = burst;
        refilledAt = this.time.GetTimestamp();
    }

    public string Vendor { get; }
    public double RequestsPerSecond { get; }
    public int Burst { get; }

    /// <summary>How long the vendor is still paused (zero when open).</summary>
    public TimeSpan Paused
    {
        get
        {
            var left = Interlocked.Read(ref pausedUntilTicks) - time.GetUtcNow().UtcTicks;
            return left > 0 ? TimeSpan.FromTicks(left) : TimeSpan.Zero;
        }
    }

    /// <summary>
    /// Waits until the vendor is not paused and a token is free, then takes the token. Answers when (this process's
    /// <see cref="TimeProvider.GetTimestamp"/>) the successful ask began: the token was granted no earlier than that, so
    /// <see cref="TokenAge"/> of it bounds how long the token has waited on its way to the vendor.
    /// </summary>
    public async ValueTask<long> Enter(CancellationToken ct)
    {
        if (shared is not null) return await EnterShared(ct);
        await turn.WaitAsync(ct);
        try
        {
            while (true)
            {
                var pause = Paused;
                if (pause > TimeSpan.Zero)
                {
                    await Task.Delay(pause, time, ct);
                    continue;
                }
                var askedAt = time.GetTimestamp();
                var wait = TryTake();
                if (wait == TimeSpan.Zero) return askedAt;
                await Task.Delay(wait, time, ct);
            }
        }
        finally
        {
            turn.Release();
        }
    }

    /// <summary>Waits in line for the shared budget; the first caller of an idle gate starts the asking loop.</summary>
    private async ValueTask<long> EnterShared(CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        var waiter = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        bool start;
        lock (gate)
        {
            waiting.Enqueue(waiter);
            start = !asking;
            asking = true;
        }
        if (start) _ = Task.Run(AskForWaiting);
        // A caller that gives up leaves its place; a token granted to it goes to the next in line.
        await using var leave = ct.Register(() => waiter.TrySetCanceled(ct));
        return await waiter.Task;
    }

    /// <summary>
    /// Asks the shared budget for every waiting caller, hands the granted tokens out in arrival order, waits as the budget
    /// says when it granted fewer, and stops when no one is waiting. A failed ask fails the callers it was for.
    /// </summary>
    private async Task AskForWaiting()
    {
        while (true)
        {
            int want;
            lock (gate)
            {
                while (waiting.TryPeek(out var first) && first.Task.IsCompleted) waiting.Dequeue();
                if (waiting.Count == 0 || closing.IsCancellationRequested)
                {
                    foreach (var left in waiting) left.TrySetCanceled();
                    waiting.Clear();
                    asking = false;
                    return;
                }
                want = Math.Min(waiting.Count, MostPerAsk);
            }
            try
            {
                var pause = Paused;
                if (pause > TimeSpan.Zero)
                {
                    await Task.Delay(pause, time, closing.Token);
                    continue;
                }
                var askedAt = time.GetTimestamp();
                var (granted, wait) = await shared!.TryTake(Vendor, RequestsPerSecond, Burst, want, closing.Token);
                lock (gate)
                    while (granted > 0 && waiting.TryDequeue(out var next))
                        if (next.TrySetResult(askedAt)) granted--;
                if (wait > TimeSpan.Zero) await Task.Delay(wait, time, closing.Token);
            }
            catch (Exception e)
            {
                lock (gate)
                    for (var i = 0; i < want && waiting.TryDequeue(out var failed); i++)
                        if (closing.IsCancellationRequested) failed.TrySetCanceled(); else failed.TrySetException(e);
            }
        }
    }

    /// <summary>How long ago the ask that <see cref="Enter"/> answered began (an upper bound on the token's age).</summary>
    public TimeSpan TokenAge(long askedAt) => time.GetElapsedTime(askedAt);

    /// <summary>Takes a token (zero) or says how long until one is there.</summary>
    private TimeSpan TryTake()
    {
        lock (gate)
        {
            var now = time.GetTimestamp();
            tokens = Math.Min(Burst, tokens + time.GetElapsedTime(refilledAt, now).TotalSeconds * RequestsPerSecond);
            refilledAt = now;
            if (tokens >= 1)
            {
                tokens -= 1;
                return TimeSpan.Zero;
            }
            // Round up to whole milliseconds so the next look finds the token there.
            return TimeSpan.FromMilliseconds(Math.Max(1, Math.Ceiling((1 - tokens) / RequestsPerSecond * 1000)));
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

    /// <summary>
    /// A 429: closes the door here at once and, with a shared budget, for every node (best effort: a database that cannot
    /// be reached leaves the pause local, and the other nodes learn of the vendor's limit from their own 429s).
    /// </summary>
    public async ValueTask PauseEverywhere(TimeSpan duration, CancellationToken ct)
    {
        PauseFor(duration);
        if (shared is null) return;
        try { await shared.Pause(Vendor, duration, ct); }
        catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException) { }
    }

    public void Dispose()
    {
        closing.Cancel();
        turn.Dispose();
    }
}
