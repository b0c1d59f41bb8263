using Steller.Application.EventStore;

namespace Steller.Projections.Engine;

/// <summary>
/// ONE reader of the global log for every projection and process manager in the process. It follows the log with a
/// single subscription and keeps the most recent events in memory; a follower whose position lies in that window is
/// served from memory, and one that is behind it (catching up after a restart, a new projection) reads pages from the
/// store on its own until it reaches the window and rejoins. So the cost of a new event is one read however many
/// followers there are, and a follower that is behind never holds the others back.
/// </summary>
public sealed class LogTail(IEventStore store, int windowSize = 20_000) : IAsyncDisposable
{
    private readonly object gate = new();
    private readonly List<RecordedEvent> window = new(windowSize);
    private LogPosition windowStart; // the window holds the events after this position, up to `head`
    private LogPosition head;
    private bool started;
    private bool live; // the pump has read everything visible (its last page was not full)
    private TaskCompletionSource moved = NewSignal();
    private Exception? failure;
    private readonly CancellationTokenSource stop = new();
    private Task pump = Task.CompletedTask;

    /// <summary>
    /// Up to <paramref name="max"/> events after <paramref name="after"/>, in log order; waits while there are none yet,
    /// at most <paramref name="maxWait"/> when given (then the answer is empty).
    /// </summary>
    public async Task<IReadOnlyList<RecordedEvent>> Next(LogPosition after, int max, CancellationToken ct, TimeSpan? maxWait = null)
    {
        var deadline = maxWait is { } wait ? DateTime.UtcNow + wait : DateTime.MaxValue;
        while (true)
        {
            Task moving;
            bool readOnItsOwn;
            lock (gate)
            {
                if (failure is { } e)
                {
                    // The shared reader stopped (the database went away, say): this follower faults and retries like any
                    // failed batch, and the next call starts a new shared reader from where that follower is.
                    failure = null;
                    started = live = false;
                    window.Clear();
                    throw new InvalidOperationException("The shared log reader stopped: " + e.Message, e);
                }
                if (!started)
                {
                    // The first follower decides where the shared reader starts; the others join its window.
                    started = true;
                    windowStart = head = after;
                    pump = Task.Run(() => Pump(after));
                }
                var inWindow = after >= windowStart && after <= head;
                if (inWindow)
                {
                    var from = IndexAfter(after);
                    if (from < window.Count) return window.GetRange(from, Math.Min(max, window.Count - from));
                }
                // Behind the window, or ahead of a shared reader that is still catching up: read on its own.
                readOnItsOwn = !inWindow && (after < windowStart || !live);
                moving = moved.Task;
            }
            if (readOnItsOwn)
            {
                var page = await store.ReadAll(after, max, ct);
                if (page.Count > 0) return page;
            }
            // Nothing after it yet: wait for the shared reader to move (a moment at most when reading on its own).
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) return [];
            var limit = readOnItsOwn && left > TimeSpan.FromMilliseconds(200) ? TimeSpan.FromMilliseconds(200) : left;
            if (deadline == DateTime.MaxValue && !readOnItsOwn) await moving.WaitAsync(ct);
            else await Task.WhenAny(moving, Task.Delay(limit, ct));
            ct.ThrowIfCancellationRequested();
        }
    }

    /// <summary>The index of the first window event after <paramref name="after"/> (binary search: positions increase).</summary>
    private int IndexAfter(LogPosition after)
    {
        int lo = 0, hi = window.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) / 2;
            if (window[mid].Position <= after) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    private async Task Pump(LogPosition from)
    {
        try
        {
            var position = from;
            while (!stop.IsCancellationRequested)
            {
                var page = await store.ReadAll(position, 1_000, stop.Token);
                if (page.Count > 0) Publish(page);
                if (page.Count > 0) position = page[^1].Position;
                if (page.Count == 1_000) continue;
                lock (gate) live = true;
                // Caught up: the store's own subscription wakes on commits (and polls as a safety net).
                await foreach (var e in store.SubscribeToAll(position, stop.Token))
                {
                    Publish([e]);
                    position = e.Position;
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested) { }
        catch (Exception e)
        {
            TaskCompletionSource signal;
            lock (gate)
            {
                failure = e;
                signal = moved;
            }
            signal.TrySetResult();
        }
    }

    private void Publish(IReadOnlyList<RecordedEvent> events)
    {
        TaskCompletionSource signal;
        lock (gate)
        {
            window.AddRange(events);
            head = events[^1].Position;
            if (window.Count > windowSize)
            {
                var drop = window.Count - windowSize;
                windowStart = window[drop - 1].Position;
                window.RemoveRange(0, drop);
            }
            signal = moved;
            moved = NewSignal();
        }
        signal.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async ValueTask DisposeAsync()
    {
        stop.Cancel();
        try { await pump; } catch { /* stopping */ }
        stop.Dispose();
    }
}
