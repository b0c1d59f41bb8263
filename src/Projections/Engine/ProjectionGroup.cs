using Dapper;
using Microsoft.Extensions.Logging;
using Steller.Application.EventStore;
using Steller.Infrastructure.Configuration;
using Steller.Infrastructure.Postgres;

namespace Steller.Projections.Engine;

/// <summary>Why a projection left the <see cref="ProjectionGroup"/> and what its worker does next.</summary>
public enum GroupExitReason
{
    /// <summary>The worker is stopping (its token was cancelled).</summary>
    Stopped,
    /// <summary>The group's transaction failed: nothing of it was applied; the worker applies that batch on its own path
    /// (where a poison event is found, parked or stops only that projection) and rejoins when caught up.</summary>
    ApplyOnItsOwn,
    /// <summary>The generation was retired by a rebuild's swap: the worker switches to the new one.</summary>
    GenerationRetired,
    /// <summary>The advisory lock that makes this process the projection's runner is gone.</summary>
    LeadershipLost,
    /// <summary>Another runner moved its checkpoint (<see cref="ProjectionConflictException"/>: the worker, still the leader,
    /// reloads the checkpoint and goes on, recording no fault), or the shared reader stopped (the worker faults and retries from
    /// its checkpoint with backoff): handled as on its own path.</summary>
    Failed,
}

public sealed record GroupExit(GroupExitReason Reason, Exception? Error = null);

/// <summary>
/// A projection's place in the <see cref="ProjectionGroup"/>: where its checkpoint row is, how far it has read, and what the
/// events in between were (none it reads). The group owns these fields while the projection is a member; the worker takes
/// them back when it leaves.
/// </summary>
public sealed class GroupMember(IProjection projection, int generation, LogPosition stored, LogPosition position, long unstored,
    DateTime storedAt, Func<bool> leading)
{
    public IProjection Projection { get; } = projection;
    public int Generation { get; } = generation;
    /// <summary>Where the checkpoint row is.</summary>
    public LogPosition Stored { get; internal set; } = stored;
    /// <summary>How far it has read (≥ <see cref="Stored"/>; what lies between holds no event it reads).</summary>
    public LogPosition Position { get; internal set; } = position;
    /// <summary>Events read since <see cref="Stored"/>.</summary>
    public long Unstored { get; internal set; } = unstored;
    public DateTime StoredAt { get; internal set; } = storedAt;
    /// <summary>Batches this member had applied in a group transaction (tests and status).</summary>
    public long GroupedBatches { get; internal set; }
    internal Func<bool> Leading { get; } = leading;
    internal TaskCompletionSource<GroupExit> Exit { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    internal bool Gone => Exit.Task.IsCompleted;
    internal void Leave(GroupExit exit) => Exit.TrySetResult(exit);
}

/// <summary>
/// The live, caught-up projections of one process, applied together: ONE log reader loop hands each batch to every member,
/// and the members for which it holds events (or whose coalesced checkpoint is due) are applied in ONE transaction: every
/// member's rows and every member's checkpoint, which each checks and locks first exactly as on its own path (one statement
/// for all). So an order's event costs one transaction however many read models it touches.
/// <para>Only projections (not process managers, which must run with no transaction open) whose worker holds leadership (the
/// advisory lock) and is live join; a projection that is behind, rebuilding or faulted runs on its own path
/// (<see cref="ProjectionWorker"/>) and joins when caught up. When the group's transaction fails, nothing of it was applied:
/// every member it held leaves and applies that batch on its own path, where a poison event is parked or stops only its own
/// projection (<see cref="PoisonEvents"/>), and the others commit it once and rejoin.</para>
/// </summary>
public sealed class ProjectionGroup(LogTail log, ProjectionStore bookkeeping, ProjectionSettings settings, ILogger<ProjectionGroup> logger)
    : IAsyncDisposable
{
    private readonly object gate = new();
    private readonly List<GroupMember> joining = [];
    private readonly CancellationTokenSource stop = new();
    private CancellationTokenSource wake = new();
    private Task? loop;

    /// <summary>Projections in the group as of its last batch (tests and diagnostics).</summary>
    public int Members => Volatile.Read(ref memberCount);
    private int memberCount;

    /// <summary>Group transactions committed by this process (tests and diagnostics).</summary>
    public long Transactions => Interlocked.Read(ref transactions);
    private long transactions;

    /// <summary>
    /// Hands <paramref name="member"/> to the group until it leaves (see <see cref="GroupExitReason"/>); its fields then
    /// say where its checkpoint and its reading are.
    /// </summary>
    public async Task<GroupExit> Join(GroupMember member, CancellationToken ct)
    {
        if (member.Projection is ProcessManagerSubscription)
            throw new ArgumentException("A process manager runs with no transaction open: it cannot join a group transaction.");
        lock (gate)
        {
            joining.Add(member);
            loop ??= Task.Run(Loop);
            wake.Cancel(); // the loop may be waiting on the log from a later position
        }
        await using (ct.Register(() =>
        {
            member.Leave(new GroupExit(GroupExitReason.Stopped));
            lock (gate) wake.Cancel();
        }))
            return await member.Exit.Task;
    }

    private async Task Loop()
    {
        var members = new List<GroupMember>();
        while (true)
        {
            CancellationTokenSource woken;
            lock (gate)
            {
                members.RemoveAll(m => m.Gone);
                foreach (var m in joining)
                {
                    // A member of the same projection still here (a worker restarted in this process): never two in one batch.
                    if (members.Any(x => x.Projection.Name == m.Projection.Name)) m.Leave(new GroupExit(GroupExitReason.ApplyOnItsOwn));
                    else if (!m.Gone) members.Add(m);
                }
                joining.Clear();
                Volatile.Write(ref memberCount, members.Count);
                if (members.Count == 0 || stop.IsCancellationRequested)
                {
                    foreach (var m in members) m.Leave(new GroupExit(GroupExitReason.Stopped));
                    loop = null;
                    return;
                }
                if (wake.IsCancellationRequested)
                {
                    wake.Dispose();
                    wake = new CancellationTokenSource();
                }
                woken = wake;
            }
            try { await Step(members, woken.Token); }
            catch (OperationCanceledException) when (woken.IsCancellationRequested || stop.IsCancellationRequested) { }
            catch (Exception e)
            {
                // The shared reader stopped (the database went away): each member faults and retries on its own path.
                logger.LogWarning("The projection group stopped reading the log: {Error}", e.Message);
                foreach (var m in members) m.Leave(new GroupExit(GroupExitReason.Failed, e));
            }
        }
    }

    private async Task Step(List<GroupMember> members, CancellationToken woken)
    {
        var from = members.Min(m => m.Position);
        // A coalesced checkpoint to write: wake by then even if the log does not move.
        var timed = members.Any(m => m.Position != m.Stored);
        IReadOnlyList<RecordedEvent> batch;
        using (var waiting = CancellationTokenSource.CreateLinkedTokenSource(stop.Token, woken))
            batch = await log.Next(from, settings.BatchSize, waiting.Token, timed ? ProjectionWorker.IdleCheckpointInterval : null);

        var now = DateTime.UtcNow;
        var due = new List<Due>();
        foreach (var m in members)
        {
            if (m.Gone) continue;
            var first = IndexAfter(batch, m.Position);
            var count = batch.Count - first;
            var to = count > 0 ? batch[^1].Position : m.Position;
            var relevant = new List<RecordedEvent>();
            for (var i = first; i < batch.Count; i++)
                if (m.Projection.EventTypes is null || m.Projection.EventTypes.Contains(batch[i].Type)) relevant.Add(batch[i]);
            if (relevant.Count > 0 || (to != m.Stored && now - m.StoredAt >= ProjectionWorker.IdleCheckpointInterval))
            {
                if (!m.Leading()) m.Leave(new GroupExit(GroupExitReason.LeadershipLost));
                else due.Add(new Due(m, relevant, to, m.Unstored + count, count > 0 ? batch[^1].Metadata.RecordedAt : null));
            }
            else if (count > 0)
            {
                // Nothing it reads: the checkpoint catches up at most once per IdleCheckpointInterval, in a later transaction.
                m.Position = to;
                m.Unstored += count;
            }
        }
        if (due.Count == 0) return;
        try
        {
            await Apply(due);
        }
        catch (Exception e) when (!stop.IsCancellationRequested)
        {
            // Rolled back: nothing of this batch was applied for anyone. Each applies it on its own path and rejoins.
            logger.LogWarning("A group batch of {Count} projections failed ({Error}); each applies it on its own",
                due.Count, $"{e.GetType().Name}: {e.Message}");
            foreach (var d in due) d.Member.Leave(new GroupExit(GroupExitReason.ApplyOnItsOwn, e));
        }
    }

    private sealed record Due(GroupMember Member, List<RecordedEvent> Relevant, LogPosition To, long Covered, DateTimeOffset? LastEventAt);

    private async Task Apply(List<Due> due)
    {
        var ct = stop.Token;
        await using var conn = await bookkeeping.DataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        // Lock every member's checkpoint row (and share its projection row: a view swap waits for the batch), in name order.
        var rows = (await conn.QueryAsync<GroupCheckpointRow>(new CommandDefinition("""
            select c.name as Name, p.active_generation as Active, c.commit_position as Commit, c.prepare_position as Prepare,
                   pg_current_xact_id()::text as Xid
              from unnest(@names::text[], @generations::int[]) as m(name, generation)
              join steller.projection_checkpoints c on c.name = m.name and c.generation = m.generation
              join steller.projections p on p.name = c.name
             order by c.name
               for update of c for share of p
            """, new { names = due.Select(d => d.Member.Projection.Name).ToArray(), generations = due.Select(d => d.Member.Generation).ToArray() },
            tx, cancellationToken: ct))).ToDictionary(r => r.Name);
        // The transaction holds an id from its first statement (the row locks): if it runs long, readers of the log stop
        // waiting for it (a read-model batch never appends).
        using var announced = rows.Count > 0 ? NoAppendDataSource.AnnounceIfLong(bookkeeping.DataSource, ulong.Parse(rows.Values.First().Xid)) : null;
        var applying = new List<Due>(due.Count);
        var leaving = new List<(GroupMember, GroupExit)>();
        foreach (var d in due)
        {
            var m = d.Member;
            if (!rows.TryGetValue(m.Projection.Name, out var row) || row.Active != m.Generation)
            {
                leaving.Add((m, new GroupExit(GroupExitReason.GenerationRetired)));
                continue;
            }
            var stored = new LogPosition((ulong)row.Commit, (ulong)row.Prepare);
            if (stored != m.Stored)
            {
                leaving.Add((m, new GroupExit(GroupExitReason.Failed, new ProjectionConflictException(
                    $"Checkpoint of {m.Projection.Name} v{m.Generation} is at {stored}, expected {m.Stored}: another runner is applying it."))));
                continue;
            }
            if (d.Relevant.Count > 0)
                await m.Projection.Apply(d.Relevant, new ProjectionContext(conn, tx, ProjectionSchemas.ForGeneration(m.Generation), ct));
            applying.Add(d);
        }
        if (applying.Count > 0)
            await conn.ExecuteAsync(new CommandDefinition("""
                update steller.projection_checkpoints c
                   set commit_position = u.commit, prepare_position = u.prepare, events_applied = c.events_applied + u.applied,
                       last_event_at = coalesce(u.last_event_at, c.last_event_at), updated_at = now()
                  from unnest(@names::text[], @generations::int[], @commits::bigint[], @prepares::bigint[], @applied::bigint[],
                              @lastEventAt::timestamptz[]) as u(name, generation, commit, prepare, applied, last_event_at)
                 where c.name = u.name and c.generation = u.generation
                """, new
            {
                names = applying.Select(d => d.Member.Projection.Name).ToArray(),
                generations = applying.Select(d => d.Member.Generation).ToArray(),
                commits = applying.Select(d => (long)d.To.Commit).ToArray(),
                prepares = applying.Select(d => (long)d.To.Prepare).ToArray(),
                applied = applying.Select(d => d.Covered).ToArray(),
                lastEventAt = applying.Select(d => d.LastEventAt?.UtcDateTime).ToArray(),
            }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        Interlocked.Increment(ref transactions);
        var now = DateTime.UtcNow;
        foreach (var d in applying)
        {
            var m = d.Member;
            m.Stored = m.Position = d.To;
            m.StoredAt = now;
            m.Unstored = 0;
            m.GroupedBatches++;
            ProjectionMetrics.EventsApplied.WithLabels(m.Projection.Name).Inc(d.Covered);
        }
        foreach (var (m, exit) in leaving) m.Leave(exit);
    }

    /// <summary>The index of the first event of <paramref name="batch"/> after <paramref name="after"/> (positions increase).</summary>
    private static int IndexAfter(IReadOnlyList<RecordedEvent> batch, LogPosition after)
    {
        int lo = 0, hi = batch.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) / 2;
            if (batch[mid].Position <= after) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    public async ValueTask DisposeAsync()
    {
        Task? running;
        lock (gate)
        {
            stop.Cancel();
            running = loop;
        }
        if (running is not null)
            try { await running; } catch { /* stopping */ }
    }
}

internal sealed record GroupCheckpointRow(string Name, int Active, long Commit, long Prepare, string Xid);
