using System.Diagnostics;
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
/// <para>
/// A node alone on its database announces nothing: each LISTEN connection holds a shared advisory lock (<see cref="ListenerLockClass"/>, <see cref="ListenerLockObject"/>),
/// and the NOTIFY goes out only while another session holds it too (looked up at most once per <see cref="OthersCheckInterval"/>)
/// or another process's notification arrived within <see cref="OthersSeenMemory"/>. A NOTIFY is a transaction of its own and wakes
/// every listening backend and client: about 5.6 per order one at a time (docs/benchmarks.md), all of them echoes when nobody
/// else listens. A node that starts listening announces itself with one NOTIFY, so the others resume announcing at once; its own
/// subscribers poll at the short interval until <see cref="OthersSeenMemory"/> has passed (<see cref="IsListening"/> false), which
/// covers an append the others made before they heard it.
/// </para>
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

    /// <summary>
    /// True while the LISTEN connection is up, so every append (here or on another node) wakes the subscribers: they then
    /// need only a slow safety poll.
    /// </summary>
    public bool IsListening => listenerPid != 0 && Stopwatch.GetElapsedTime(Volatile.Read(ref listeningSince)) >= OthersSeenMemory;

    /// <summary>How long another process's notification keeps this one announcing without looking up the listeners.</summary>
    public static readonly TimeSpan OthersSeenMemory = TimeSpan.FromSeconds(2);

    /// <summary>How often, at most, a node that found no other listener looks again (only while it appends).</summary>
    public static readonly TimeSpan OthersCheckInterval = TimeSpan.FromSeconds(1);

    /// <summary>The key of the shared advisory lock every LISTEN connection holds, so a node can tell whether anyone else listens.</summary>
    private const string ListenerLockClass = "hashtext('steller.listeners')", ListenerLockObject = "hashtext('" + Channel + "')";

    private long listeningSince;
    private volatile int listenerPid; // the LISTEN connection's backend, 0 while it is down (not listening)
    private long othersSeenAt = long.MinValue / 2; // Stopwatch timestamp of the last notification from another process
    private long othersCheckedAt = long.MinValue / 2;
    private bool othersFound;
    private long sent, skipped;

    /// <summary>NOTIFYs sent to other nodes (for tests and the bench).</summary>
    public long AnnouncementsSent => Interlocked.Read(ref sent);

    /// <summary>Announcements left out because no other process was listening (for tests and the bench).</summary>
    public long AnnouncementsSkipped => Interlocked.Read(ref skipped);

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

    /// <summary>The announcement (and a starting node's hello), signed with <see cref="self"/>.</summary>
    private string AnnounceSql => $"select pg_notify('{Channel}', '{self}')";

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
                if (await AnyoneElseListening(stop.Token))
                {
                    // Signed with this process's id: its own listener skips the echo (the append already woke it).
                    await using var cmd = dataSource.CreateCommand(AnnounceSql);
                    await cmd.ExecuteNonQueryAsync(stop.Token);
                    Interlocked.Increment(ref sent);
                    EventStoreMetrics.LogAnnouncements.WithLabels("sent").Inc();
                }
                else
                {
                    Interlocked.Increment(ref skipped);
                    EventStoreMetrics.LogAnnouncements.WithLabels("skipped_alone").Inc();
                }
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

    /// <summary>
    /// Whether a session other than this process's LISTEN connection holds the listeners' lock, or another process's
    /// notification came lately. Called by one announcer at a time. When the lookup fails, it answers yes.
    /// </summary>
    private async Task<bool> AnyoneElseListening(CancellationToken ct)
    {
        if (Stopwatch.GetElapsedTime(Volatile.Read(ref othersSeenAt)) < OthersSeenMemory) return true;
        if (Stopwatch.GetElapsedTime(othersCheckedAt) < OthersCheckInterval) return othersFound;
        try
        {
            await using var cmd = dataSource.CreateCommand($"""
                select exists (select 1 from pg_locks where locktype = 'advisory' and granted and pid <> $1
                   and database = (select oid from pg_database where datname = current_database())
                   and classid = {ListenerLockClass}::oid and objid = {ListenerLockObject}::oid and objsubid = 2)
                """);
            cmd.Parameters.Add(new NpgsqlParameter { Value = listenerPid });
            othersFound = (bool)(await cmd.ExecuteScalarAsync(ct))!;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogDebug("Could not look up the other listeners ({Error}); announcing", e.Message);
            othersFound = true;
        }
        othersCheckedAt = Stopwatch.GetTimestamp();
        return othersFound;
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
                    if (e.Payload == self) return;
                    Volatile.Write(ref othersSeenAt, Stopwatch.GetTimestamp()); // someone else listens: announce to them
                    Fire(); // another node's appends (or its hello, or an unsigned NOTIFY)
                };
                // Listen, take the listeners' lock, and say hello: a node that thought it was alone announces again at once.
                await using (var cmd = new NpgsqlCommand($"listen {Channel}; select pg_advisory_lock_shared({ListenerLockClass}, {ListenerLockObject}); {AnnounceSql}", conn))
                    await cmd.ExecuteNonQueryAsync(ct);
                delay = TimeSpan.FromMilliseconds(100);
                Volatile.Write(ref listeningSince, Stopwatch.GetTimestamp());
                listenerPid = conn.ProcessID;
                Fire(); // anything appended while we were not listening
                try
                {
                    while (!ct.IsCancellationRequested) await conn.WaitAsync(ct);
                }
                finally
                {
                    listenerPid = 0;
                    // A pooled connection is not reset on its return (No Reset On Close): leave it without the LISTEN and the lock.
                    try
                    {
                        await using var unlisten = new NpgsqlCommand("unlisten *; select pg_advisory_unlock_all()", conn);
                        unlisten.CommandTimeout = 2;
                        await unlisten.ExecuteNonQueryAsync(CancellationToken.None);
                    }
                    catch (Exception) { /* a broken connection is not pooled again */ }
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { return; }
            catch (Exception e)
            {
                // Other nodes' appends go unannounced until it is back (listenerPid is 0): wake the waiters, so they poll at the short interval.
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
