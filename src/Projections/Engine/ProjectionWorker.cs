using Microsoft.Extensions.Logging;
using Steller.Application.EventStore;
using Steller.Infrastructure.Configuration;

namespace Steller.Projections.Engine;

public enum ProjectionState { Starting, Standby, Rebuilding, CatchingUp, Live, Faulted, Stopped }

/// <summary>
/// Runs one projection live: takes leadership (one runner per projection across nodes), subscribes to the log
/// from its checkpoint, and applies what queues up in batches. A failing batch rolls back, marks the projection
/// faulted and is retried with backoff from the same checkpoint. A batch that fails for a reason other than the moment
/// (see <see cref="PoisonEvents"/>) is applied again event by event to find the event that fails alone, which is
/// then parked (the projection goes on) or, for a projection whose <see cref="IProjection.OnPoison"/> is
/// <see cref="OnPoisonEvent.Stop"/>, stops the projection right before it: such an event is never skipped.
/// <para>A checkpoint that another runner moved (<see cref="ProjectionConflictException"/>) while this one still holds the
/// leadership is no fault of the projection: a node whose session the database terminated applies batches on fresh
/// connections until its lock's heartbeat tells it the lock is gone (up to <see cref="AdvisoryLock.HeartbeatInterval"/>).
/// The worker reloads its checkpoint and goes on, recording no fault (found by LeaderSessionTerminatedTests).</para>
/// </summary>
public sealed class ProjectionWorker(
    IProjection projection,
    LogTail log,
    ProjectionStore bookkeeping,
    ProjectionRebuilder rebuilder,
    ProjectionSettings settings,
    ILogger<ProjectionWorker> logger,
    ProjectionGroup? group = null)
{
    public IProjection Projection => projection;
    public ProjectionState State { get; private set; } = ProjectionState.Starting;
    public string? LastError { get; private set; }

    /// <summary>Retry delay after the n-th consecutive failure: Projections:RetryDelayMilliseconds doubling to 30 s.</summary>
    public TimeSpan Backoff(int attempt) =>
        TimeSpan.FromMilliseconds(Math.Min(settings.RetryDelayMilliseconds * Math.Pow(2, Math.Min(attempt - 1, 16)), 30_000));

    private int failures; // consecutive failed attempts; reset by the first batch that commits, or at the head of the log
    private int conflicts; // consecutive checkpoints moved by another runner; reset by the first batch that commits
    private bool faultMayBeRecorded = true; // by this process or any earlier one: cleared at the first commit or at the head
    private bool groupOpen = true; // false once the group has shut down under a worker still running

    /// <summary>Batches this worker's projection had applied in its process's group transaction (see <see cref="ProjectionGroup"/>).</summary>
    public long GroupedBatches { get; private set; }

    public async Task Run(CancellationToken ct)
    {
        var lostBefore = false; // this worker held the leadership and lost it: let a standby node take it first
        try
        {
            while (!ct.IsCancellationRequested)
            {
                await using var leadership = await AcquireLeadership(lostBefore, ct);
                lostBefore = false;
                while (!ct.IsCancellationRequested && leadership.IsHeld)
                {
                    try
                    {
                        var active = await bookkeeping.EnsureRegistered(projection, ct);
                        if (active.CodeVersion != projection.Version)
                        {
                            State = ProjectionState.Rebuilding;
                            logger.LogInformation("Projection {Projection} is v{Stored} in the database and v{Code} in code: rebuilding side by side",
                                projection.Name, active.CodeVersion, projection.Version);
                            await rebuilder.Rebuild(projection, null, ct);
                            continue;
                        }
                        await RunGeneration(active.Generation, leadership, ct);
                    }
                    catch (OperationCanceledException) when (ct.IsCancellationRequested) { return; }
                    catch (Exception e)
                    {
                        if (!await leadership.Confirm(ct))
                        {
                            // Not a fault of the projection: this node's session was terminated and another node may lead
                            // now (the checkpoint moved under us). Stand by, recording no fault that would mark it unhealthy.
                            logger.LogWarning("Projection {Projection} lost its leadership session ({Error}); standing by",
                                projection.Name, e.Message);
                            State = ProjectionState.Standby;
                            continue;
                        }
                        if (e is ProjectionConflictException)
                        {
                            // Still the leader, yet another runner moved the checkpoint: a node that has not noticed yet
                            // that its lock is gone (see the class comment). Not a fault of the projection: go on from
                            // where the checkpoint is now. Again and again, it backs off without recording a fault.
                            conflicts++;
                            ProjectionMetrics.CheckpointConflicts.WithLabels(projection.Name).Inc();
                            logger.LogWarning("Projection {Projection}: another runner moved its checkpoint ({Error}); going on from there",
                                projection.Name, e.Message);
                            if (conflicts > 1) await Task.Delay(Backoff(conflicts - 1), ct);
                            continue;
                        }
                        failures++;
                        faultMayBeRecorded = true;
                        State = ProjectionState.Faulted;
                        LastError = $"{e.GetType().Name}: {e.Message}";
                        ProjectionMetrics.Faulted.WithLabels(projection.Name).Set(1);
                        var delay = Backoff(failures);
                        logger.LogError(e, "Projection {Projection} failed (attempt {Attempt}); retrying from its checkpoint in {Delay} ms",
                            projection.Name, failures, delay.TotalMilliseconds);
                        await RecordFault(e, failures);
                        await Task.Delay(delay, ct);
                    }
                }
                lostBefore = !ct.IsCancellationRequested;
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
        finally { State = ProjectionState.Stopped; }
    }

    /// <summary>How often a standby worker tries to take the leadership.</summary>
    public static readonly TimeSpan StandbyInterval = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Takes the projection's leadership, trying every <see cref="StandbyInterval"/> (on the interval's ticks, which every
    /// standby worker of the process shares, so its <see cref="LeadershipSession"/> tries them all in one statement). A worker that has just lost it
    /// (<paramref name="lostBefore"/>: its session was terminated, so its connections to the database are suspect) first waits
    /// two of those intervals, so a node standing by takes over rather than this one taking the lock straight back.
    /// </summary>
    private async Task<AdvisoryLock> AcquireLeadership(bool lostBefore, CancellationToken ct)
    {
        if (lostBefore)
        {
            State = ProjectionState.Standby;
            await Task.Delay(2 * StandbyInterval, ct);
        }
        while (true)
        {
            try
            {
                if (await AdvisoryLock.TryAcquire(bookkeeping.DataSource, "leader", projection.Name, ct) is { } held) return held;
                State = ProjectionState.Standby; // another node runs it; stay ready to take over
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LastError = $"{e.GetType().Name}: {e.Message}";
                logger.LogWarning("Projection {Projection} cannot reach the database for leadership: {Error}", projection.Name, e.Message);
            }
            await Task.Delay(AdvisoryLock.UntilNextAttempt(StandbyInterval), ct); // with the process's other standbys, in one statement
        }
    }

    /// <summary>
    /// Batches with nothing this projection reads, and every batch of a process manager, move its stored checkpoint at most
    /// this often (coalesced).
    /// </summary>
    public static readonly TimeSpan IdleCheckpointInterval = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Applies batches to one generation until the generation is retired by a rebuild. Events come from the process's
    /// one shared log reader. A batch with events this projection reads is applied with its checkpoint in one
    /// transaction; a batch with none costs no transaction at all: the checkpoint catches up with it at most once per
    /// <see cref="IdleCheckpointInterval"/> (a restart merely reads those irrelevant events again). A process manager handles
    /// each batch at once and moves its checkpoint at most that often too (a restart handles again what it handled since:
    /// its commands are idempotent).
    /// Once caught up (its last batch was not full, nothing failing), a projection joins its process's
    /// <see cref="ProjectionGroup"/>, which applies it together with the other live projections in one transaction per
    /// batch, and comes back here when it leaves (to apply a failed group batch on its own, after a rebuild's swap, on a
    /// lost leadership or a failure).
    /// </summary>
    private async Task RunGeneration(int generation, AdvisoryLock leadership, CancellationToken ct)
    {
        var stored = (await bookkeeping.LoadCheckpoint(projection.Name, generation, ct)).Position; // where the checkpoint row is
        var position = stored; // how far this worker has read
        var storedAt = DateTime.UtcNow;
        long unstored = 0; // events read since the stored checkpoint
        // A retrying projection stays Faulted until a batch commits again.
        if (failures == 0) State = ProjectionState.CatchingUp;
        ProjectionMetrics.LagSeconds.WithLabels(projection.Name).Set(0); // exported from the start, not from its first event
        var caughtUp = false; // its last batch on its own was not full: at the head of the log, or near it
        while (!ct.IsCancellationRequested)
        {
            if (group is not null && settings.Grouped && groupOpen && caughtUp && failures == 0 && !faultMayBeRecorded && projection is not ProcessManagerSubscription)
            {
                State = ProjectionState.Live;
                ProjectionMetrics.LagSeconds.WithLabels(projection.Name).Set(0);
                var member = new GroupMember(projection, generation, stored, position, unstored, storedAt, () => leadership.IsHeld);
                var exit = await group.Join(member, ct);
                (stored, position, unstored, storedAt) = (member.Stored, member.Position, member.Unstored, member.StoredAt);
                GroupedBatches += member.GroupedBatches;
                if (member.GroupedBatches > 0) conflicts = 0;
                switch (exit.Reason)
                {
                    case GroupExitReason.Stopped:
                        ct.ThrowIfCancellationRequested();
                        groupOpen = false; // the group shut down under a running worker: go on alone
                        break;
                    case GroupExitReason.ApplyOnItsOwn:
                        caughtUp = false; // apply the batch the group could not (finding a poison event), then rejoin
                        break;
                    case GroupExitReason.GenerationRetired:
                        logger.LogInformation("Projection {Projection} generation {Generation} was retired by a rebuild; switching", projection.Name, generation);
                        return;
                    case GroupExitReason.LeadershipLost:
                        logger.LogWarning("Projection {Projection} lost its leadership lock; taking it again", projection.Name);
                        return;
                    default:
                        throw exit.Error ?? new InvalidOperationException($"Projection {projection.Name} left its group: {exit.Reason}");
                }
                continue;
            }
            var behind = position != stored;
            // A fault to clear at the head of the log (an old one, or this worker's own whose batch is gone): do not wait for
            // the next event to clear it.
            var wake = behind || faultMayBeRecorded || failures > 0;
            var batch = await log.Next(position, settings.BatchSize, ct, wake ? IdleCheckpointInterval : null);
            var relevant = batch.Count > 0 && (projection.EventTypes is null || batch.Any(e => projection.EventTypes.Contains(e.Type)));
            if (batch.Count > 0) position = batch[^1].Position;
            unstored += batch.Count;
            var moveDue = position != stored && DateTime.UtcNow - storedAt >= IdleCheckpointInterval;
            var due = position != stored && (relevant || moveDue);
            if (due && !leadership.IsHeld)
            {
                // Its lock's heartbeat found the session gone: another node may lead already. Apply nothing more.
                logger.LogWarning("Projection {Projection} lost its leadership lock; taking it again", projection.Name);
                return;
            }
            if (due)
            {
                // A process manager handles its events at once but moves its checkpoint at most once per
                // IdleCheckpointInterval, in a later pass (its commands are idempotent: a restart merely handles again what
                // it handled since; one statement and one transaction per order saved on each manager).
                BatchApplier.Outcome? outcome = null; // null: handled, checkpoint not moved
                try
                {
                    if (relevant && !moveDue && projection is ProcessManagerSubscription manager)
                        await BatchApplier.HandleOnly(manager, batch, ct);
                    else
                    {
                        // From the stored checkpoint: what lies between it and this batch holds nothing this projection
                        // reads (or, for a process manager, only events it has handled already).
                        outcome = await BatchApplier.Apply(bookkeeping.DataSource, projection, generation, mustBeActive: true, stored,
                            relevant ? batch : [], position, unstored, ct);
                    }
                }
                catch (Exception e) when (relevant && PoisonEvents.MayBePoison(e, ct))
                {
                    outcome = await PoisonEvents.ApplyOneByOne(bookkeeping.DataSource, projection, generation, mustBeActive: true, stored,
                        batch, unstored - batch.Count, e, logger, ct);
                }
                if (outcome == BatchApplier.Outcome.GenerationRetired)
                {
                    logger.LogInformation("Projection {Projection} generation {Generation} was retired by a rebuild; switching", projection.Name, generation);
                    return;
                }
                if (outcome is not null)
                {
                    stored = position;
                    storedAt = DateTime.UtcNow;
                    unstored = 0;
                    conflicts = 0;
                    await ClearOldFault();
                }
            }
            else if (batch.Count == 0 && position == stored)
            {
                // At the head of the log with its checkpoint (loaded from the database since any failure): nothing is left to
                // fail, so whatever failed is gone (the batch another runner applied, a database that came back).
                var wasFailing = failures > 0;
                await ClearOldFault();
                if (wasFailing) State = ProjectionState.Live;
            }
            caughtUp = batch.Count < settings.BatchSize;
            if (batch.Count == 0) continue;
            var more = batch.Count == settings.BatchSize;
            if (failures == 0) State = more ? ProjectionState.CatchingUp : ProjectionState.Live;
            ProjectionMetrics.LagSeconds.WithLabels(projection.Name)
                .Set(more ? Math.Max(0, (DateTimeOffset.UtcNow - batch[^1].Metadata.RecordedAt).TotalSeconds) : 0);
        }
    }

    /// <summary>
    /// Clears the projection's row in steller.projection_faults after it commits (or is at the head of the log, nothing to apply),
    /// whichever process recorded it: a fault left by an earlier run must not keep the node "not ready".
    /// </summary>
    private async Task ClearOldFault()
    {
        if (failures > 0)
        {
            failures = 0;
            LastError = null;
            faultMayBeRecorded = true;
        }
        if (!faultMayBeRecorded) return;
        ProjectionMetrics.Faulted.WithLabels(projection.Name).Set(0);
        try
        {
            await bookkeeping.ClearFault(projection.Name, CancellationToken.None);
            faultMayBeRecorded = false;
        }
        catch (Exception e) { logger.LogWarning("Could not clear the fault of {Projection}: {Error}", projection.Name, e.Message); }
    }

    private async Task RecordFault(Exception error, int attempts)
    {
        try
        {
            var active = await bookkeeping.GetActive(projection.Name, CancellationToken.None);
            var position = active is null ? LogPosition.Start : (await bookkeeping.LoadCheckpoint(projection.Name, active.Generation, CancellationToken.None)).Position;
            await bookkeeping.RecordFault(projection.Name, active?.Generation ?? 0, error, attempts, position);
        }
        catch (Exception e) { logger.LogWarning("Could not record the fault of {Projection}: {Error}", projection.Name, e.Message); }
    }
}
