using Npgsql;

namespace Steller.Projections.Engine;

/// <summary>
/// A PostgreSQL session advisory lock: one runner (or rebuild) per projection across every node. Every lock of a process
/// (per data source) is held by the process's one <see cref="LeadershipSession"/>, a connection of its own with one heartbeat
/// for all of them; released explicitly with <c>pg_advisory_unlock</c>. Advisory locks are re-entrant per session, so the
/// session refuses a lock that another holder in the process has, as a separate session would.
/// The session asks the server every <see cref="HeartbeatInterval"/> whether it still lives: a session the server
/// terminated (an administrator, a failover, a network cut) has lost every lock it held, and another node may hold them
/// already, so the client-side connection state alone is not enough (found by the fault simulation, seed 103).
/// </summary>
public sealed class AdvisoryLock : IAsyncDisposable
{
    /// <summary>How often a session holding locks checks itself; a lost lock is noticed within about this long.</summary>
    public static TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(2);

    private readonly LeadershipSession session;
    private int released;

    internal AdvisoryLock(LeadershipSession session, LeadershipSession.Key key)
    {
        this.session = session;
        Key = key;
    }

    internal LeadershipSession.Key Key { get; }

    /// <summary>True until released, while the session that holds the lock is connected and, at its last check, alive on the server.</summary>
    public bool IsHeld => Volatile.Read(ref released) == 0 && session.IsAlive;

    /// <summary>Asks the server now: false (and <see cref="IsHeld"/> false from then on) when the session is gone.</summary>
    public async Task<bool> Confirm(CancellationToken ct)
    {
        if (!IsHeld) return false;
        await session.Ping(ct);
        return IsHeld;
    }

    /// <summary>One attempt at the lock (<paramref name="purpose"/>, <paramref name="name"/>); null when another node, or
    /// another holder in this process, has it.</summary>
    public static Task<AdvisoryLock?> TryAcquire(NpgsqlDataSource dataSource, string purpose, string name, CancellationToken ct) =>
        LeadershipSession.TryAcquire(dataSource, new LeadershipSession.Key($"steller.projection.{purpose}", name), ct);

    /// <summary>
    /// How long a standby waits before its next attempt: until the next multiple of <paramref name="interval"/> on the
    /// machine's clock, so the standby followers of a process try together and their session asks for all of them in one
    /// statement. At most <paramref name="interval"/>, so hand-over is no slower than a plain delay.
    /// </summary>
    public static TimeSpan UntilNextAttempt(TimeSpan interval)
    {
        var every = Math.Max(1, (long)interval.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(every - Environment.TickCount64 % every);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref released, 1) == 0) await session.Release(this);
    }
}
