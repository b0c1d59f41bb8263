using System.Data;
using System.Runtime.CompilerServices;
using Npgsql;

namespace Steller.Projections.Engine;

/// <summary>
/// The one database session per process (per data source) that holds every <see cref="AdvisoryLock"/> the process owns:
/// one connection and one heartbeat for all of a node's followers instead of a connection and a heartbeat each (issue 11,
/// an idle node's cost). Attempts that arrive together (the standby followers of a node wake together, see
/// <see cref="AdvisoryLock.UntilNextAttempt"/>) go to the server in one statement. Statements on the connection are
/// serialised (Npgsql connections are not thread-safe) and never cancelled by a caller: a cancelled statement could break
/// the connection, and with it every lock of the process.
/// <para>A session the server terminated, or any statement of it that failed, loses every lock it held: each holder's
/// <see cref="AdvisoryLock.IsHeld"/> turns false, and the next attempt opens a new session. A session that holds nothing and
/// was not used for <see cref="IdleTimeout"/> closes (a CLI after its rebuild, a test database); a standby node's, which
/// tries every second, stays open.</para>
/// </summary>
internal sealed class LeadershipSession
{
    /// <summary>A lock's two keys before hashing: the purpose ("steller.projection.leader") and the name.</summary>
    internal readonly record struct Key(string Purpose, string Name);

    public static TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The current session of a data source, and the gate that keeps two callers from opening one each.</summary>
    private sealed class Slot
    {
        public readonly SemaphoreSlim Opening = new(1, 1);
        public LeadershipSession? Current; // read with Volatile, cleared with CompareExchange
    }

    private static readonly ConditionalWeakTable<NpgsqlDataSource, Slot> Slots = new();

    private sealed class Request(Key key)
    {
        public Key Key { get; } = key;
        public TaskCompletionSource<AdvisoryLock?> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public bool Done; // under the session's gate
        public bool Abandoned; // its caller gave up waiting: a lock it gets is released at once
    }

    private readonly Slot slot;
    private readonly NpgsqlConnection connection;
    private readonly SemaphoreSlim use = new(1, 1); // one statement at a time on the connection
    private readonly Lock gate = new(); // held, pending, draining, ended, lastUsed
    private readonly Dictionary<Key, AdvisoryLock?> held = []; // the locks of this session; null while being tried
    private readonly List<Request> pending = [];
    private bool draining;
    private volatile bool ended; // lost or closed: it holds no lock any more
    private long lastUsed = Environment.TickCount64;
    private readonly CancellationTokenSource stop = new();

    private LeadershipSession(Slot slot, NpgsqlConnection connection)
    {
        this.slot = slot;
        this.connection = connection;
        _ = Task.Run(Heartbeat);
    }

    /// <summary>Connected, and alive at its last check.</summary>
    public bool IsAlive => !ended && (connection.FullState & ConnectionState.Open) != 0; // Open|Executing while a statement runs

    public static async Task<AdvisoryLock?> TryAcquire(NpgsqlDataSource dataSource, Key key, CancellationToken ct)
    {
        var slot = Slots.GetValue(dataSource, _ => new Slot());
        while (true)
        {
            var session = await Current(dataSource, slot, ct);
            var request = session.Enqueue(key, out var refused);
            if (refused) return null; // another holder in this process has it
            if (request is null) continue; // the session ended meanwhile: the next one
            try { return await request.Result.Task.WaitAsync(ct); }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                await session.Abandon(request);
                throw;
            }
        }
    }

    private static async Task<LeadershipSession> Current(NpgsqlDataSource dataSource, Slot slot, CancellationToken ct)
    {
        var current = Volatile.Read(ref slot.Current);
        if (current is { IsAlive: true }) return current;
        await slot.Opening.WaitAsync(ct);
        try
        {
            current = Volatile.Read(ref slot.Current);
            if (current is { IsAlive: true }) return current;
            if (current is not null) await current.Lose(); // broken without a statement noticing yet
            var connection = await dataSource.OpenConnectionAsync(ct);
            var session = new LeadershipSession(slot, connection);
            Volatile.Write(ref slot.Current, session);
            return session;
        }
        finally { slot.Opening.Release(); }
    }

    /// <summary>Queues an attempt; null with <paramref name="refused"/> when the process holds the lock already, null alone
    /// when the session has ended.</summary>
    private Request? Enqueue(Key key, out bool refused)
    {
        refused = false;
        bool start;
        Request request;
        lock (gate)
        {
            if (ended) return null;
            if (held.ContainsKey(key))
            {
                refused = true;
                return null;
            }
            held[key] = null; // taken by this attempt until the server answers
            request = new Request(key);
            pending.Add(request);
            start = !draining;
            draining = true;
        }
        if (start) _ = Task.Run(Drain);
        return request;
    }

    /// <summary>Sends the queued attempts, all that are waiting in one statement, until none is left.</summary>
    private async Task Drain()
    {
        while (true)
        {
            List<Request> batch;
            lock (gate)
            {
                if (pending.Count == 0)
                {
                    draining = false;
                    return;
                }
                batch = [.. pending];
                pending.Clear();
            }
            bool[]? got = null;
            Exception? error = null;
            await use.WaitAsync();
            try
            {
                if (!ended) got = await TryLocks(batch);
            }
            catch (Exception e) { error = e; }
            finally { use.Release(); }
            if (error is not null) await Lose();
            List<AdvisoryLock> unwanted = [];
            lock (gate)
            {
                lastUsed = Environment.TickCount64;
                foreach (var (request, i) in batch.Select((r, i) => (r, i)))
                {
                    request.Done = true;
                    if (got is null || ended)
                    {
                        // Not sent, or the session ended since: whatever it got is lost already.
                        if (error is not null) request.Result.TrySetException(error);
                        else request.Result.TrySetResult(null);
                    }
                    else if (!got[i])
                    {
                        held.Remove(request.Key);
                        request.Result.TrySetResult(null);
                    }
                    else
                    {
                        var advisoryLock = new AdvisoryLock(this, request.Key);
                        held[request.Key] = advisoryLock;
                        if (request.Abandoned) unwanted.Add(advisoryLock);
                        else request.Result.TrySetResult(advisoryLock);
                    }
                }
            }
            foreach (var advisoryLock in unwanted) await advisoryLock.DisposeAsync();
        }
    }

    private async Task<bool[]> TryLocks(List<Request> batch)
    {
        await using var cmd = new NpgsqlCommand("""
            select pg_try_advisory_lock(hashtext(k.purpose), hashtext(k.name))
              from unnest($1::text[], $2::text[]) with ordinality as k(purpose, name, i)
             order by k.i
            """, connection);
        cmd.Parameters.Add(new NpgsqlParameter { Value = batch.Select(r => r.Key.Purpose).ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter { Value = batch.Select(r => r.Key.Name).ToArray() });
        var got = new bool[batch.Count];
        await using var reader = await cmd.ExecuteReaderAsync();
        for (var i = 0; i < got.Length && await reader.ReadAsync(); i++) got[i] = reader.GetBoolean(0);
        return got;
    }

    /// <summary>Its caller stopped waiting: a lock the attempt got (or gets) is released.</summary>
    private async Task Abandon(Request request)
    {
        lock (gate)
        {
            if (!request.Done)
            {
                request.Abandoned = true;
                return;
            }
        }
        if (request.Result.Task is { IsCompletedSuccessfully: true, Result: { } got }) await got.DisposeAsync();
    }

    public async Task Release(AdvisoryLock advisoryLock)
    {
        lock (gate)
        {
            if (ended || !held.TryGetValue(advisoryLock.Key, out var holder) || holder != advisoryLock) return;
        }
        var failed = false;
        await use.WaitAsync();
        try
        {
            if (!ended)
            {
                await using var cmd = new NpgsqlCommand("select pg_advisory_unlock(hashtext($1), hashtext($2))", connection);
                cmd.Parameters.Add(new NpgsqlParameter { Value = advisoryLock.Key.Purpose });
                cmd.Parameters.Add(new NpgsqlParameter { Value = advisoryLock.Key.Name });
                await cmd.ExecuteScalarAsync();
            }
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or IOException or TimeoutException) { failed = true; }
        finally { use.Release(); }
        if (failed)
        {
            await Lose(); // the session is suspect: end it, and every lock with it
            return;
        }
        lock (gate)
        {
            held.Remove(advisoryLock.Key);
            lastUsed = Environment.TickCount64;
        }
    }

    /// <summary>Asks the server whether the session lives; ends it (every lock lost) when not.</summary>
    public async Task Ping(CancellationToken ct)
    {
        var failed = false;
        await use.WaitAsync(ct);
        try
        {
            if (ended) return;
            await using var cmd = new NpgsqlCommand("select 1", connection);
            await cmd.ExecuteScalarAsync();
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or IOException or TimeoutException) { failed = true; }
        finally { use.Release(); }
        if (failed) await Lose();
    }

    private async Task Heartbeat()
    {
        try
        {
            while (!ended)
            {
                await Task.Delay(AdvisoryLock.HeartbeatInterval, stop.Token);
                bool holds, idle;
                lock (gate)
                {
                    holds = held.Count > 0;
                    idle = !holds && !draining && Environment.TickCount64 - lastUsed >= IdleTimeout.TotalMilliseconds;
                }
                if (idle) await End(lost: false);
                else if (holds) await Ping(stop.Token);
            }
        }
        catch (OperationCanceledException) { }
    }

    /// <summary>The session is gone or suspect: every lock it held is lost (<see cref="AdvisoryLock.IsHeld"/> false).</summary>
    private Task Lose() => End(lost: true);

    private async Task End(bool lost)
    {
        lock (gate)
        {
            if (ended) return;
            if (!lost && (held.Count > 0 || draining)) return; // used again since the heartbeat looked
            ended = true;
            held.Clear();
        }
        Interlocked.CompareExchange(ref slot.Current, null, this);
        stop.Cancel();
        await use.WaitAsync();
        try
        {
            // The connection goes back to the pool: it must keep no lock, even when it is alive after all (a timeout).
            if ((connection.FullState & ConnectionState.Open) != 0)
            {
                await using var cmd = new NpgsqlCommand("select pg_advisory_unlock_all()", connection);
                await cmd.ExecuteNonQueryAsync();
            }
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or IOException or TimeoutException) { }
        finally { use.Release(); }
        await connection.DisposeAsync();
    }
}
