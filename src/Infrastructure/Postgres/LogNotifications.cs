using Microsoft.Extensions.Logging;
using Npgsql;

namespace Steller.Infrastructure.Postgres;

/// <summary>
/// One LISTEN connection per process on channel "steller_events". Appends in this process <see cref="Poke"/> it:
/// local subscribers wake at once, and a coalesced NOTIFY (payload: this process's id, so its own echo wakes nobody a
/// second time) goes out on a side connection for other nodes (never
/// inside the writer's transaction: PostgreSQL serialises notifying commits through their WAL flush).
/// Subscribers take <see cref="NextSignal"/> before they read, then await it after an empty read,
/// so a notification between the read and the wait is never lost. When the connection drops, waiters are woken and
/// fall back to their short poll interval (<see cref="IsListening"/> false) until it is back.
/// </summary>
public sealed class LogNotifications : IAsyncDisposable
{
    public const string Channel = "steller_events";

    private readonly NpgsqlDataSource dataSource;
    private readonly ILogger logger;
    private readonly CancellationTokenSource stop = new();
    private readonly Lock gate = new();
    private TaskCompletionSource signal = NewSignal();
    private Task? loop;
    private volatile bool listening;

    /// <summary>
    /// True while the LISTEN connection is up, so every append (here or on another node) wakes the subscribers: they then
    /// need only a slow safety poll.
    /// </summary>
    public bool IsListening => listening;

    public LogNotifications(NpgsqlDataSource dataSource, ILogger<LogNotifications> logger)
    {
        this.dataSource = dataSource;
        this.logger = logger;
    }

    /// <summary>A task that completes at the next notification after this call.</summary>
    public Task NextSignal()
    {
        lock (gate)
        {
            loop ??= Task.Run(() => Listen(stop.Token));
            return signal.Task;
        }
    }

    private int pokes; // appends not yet announced to other nodes

    /// <summary>This process's id in the NOTIFY payload (hex only: it is spelled into the SQL text).</summary>
    private readonly string self = Guid.NewGuid().ToString("N");

    /// <summary>Called after an append committed: wakes this process's subscribers and announces it to the others.</summary>
    public void Poke()
    {
        Fire();
        if (Interlocked.Increment(ref pokes) == 1) _ = Task.Run(Announce);
    }

    private async Task Announce()
    {
        while (true)
        {
            var seen = Volatile.Read(ref pokes);
            try
            {
                // Signed with this process's id: its own listener skips the echo (the append already woke it).
                await using var cmd = dataSource.CreateCommand($"select pg_notify('{Channel}', '{self}')");
                await cmd.ExecuteNonQueryAsync(stop.Token);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogDebug("Could not announce new events ({Error}); other nodes will poll", e.Message);
            }
            catch (OperationCanceledException) { return; }
            // Appends that arrived while this NOTIFY was in flight get one more; a burst costs a couple of NOTIFYs.
            if (Interlocked.Add(ref pokes, -seen) == 0) return;
        }
    }

    private void Fire()
    {
        TaskCompletionSource fired;
        lock (gate)
        {
            fired = signal;
            signal = NewSignal();
        }
        fired.TrySetResult();
    }

    private async Task Listen(CancellationToken ct)
    {
        var delay = TimeSpan.FromMilliseconds(100);
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await using var conn = await dataSource.OpenConnectionAsync(ct);
                conn.Notification += (_, e) =>
                {
                    if (e.Payload != self) Fire(); // another node's appends (or an unsigned NOTIFY)
                };
                await using (var cmd = new NpgsqlCommand($"listen {Channel}", conn)) await cmd.ExecuteNonQueryAsync(ct);
                delay = TimeSpan.FromMilliseconds(100);
                listening = true;
                Fire(); // anything appended while we were not listening
                while (!ct.IsCancellationRequested) await conn.WaitAsync(ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { listening = false; return; }
            catch (Exception e)
            {
                // Other nodes' appends go unannounced until it is back: wake the waiters, so they poll at the short interval.
                listening = false;
                Fire();
                logger.LogWarning("Event notification listener lost its connection ({Error}); retrying in {Delay} ms", e.Message, delay.TotalMilliseconds);
                try { await Task.Delay(delay, ct); } catch (OperationCanceledException) { return; }
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 5_000));
            }
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private int disposed;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 1) return;
        stop.Cancel();
        if (loop is not null) { try { await loop; } catch { /* stopping */ } }
        stop.Dispose();
    }
}
