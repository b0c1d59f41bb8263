using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Steller.Application.EventStore;
using Steller.Application.Serialization;
using Steller.Domain;

namespace Steller.Application.Commands;

/// <summary>
/// Runs commands against event-sourced aggregates, one stream at a time.
/// <para>
/// Commands for the same stream queue in a lane inside this process. One worker per lane takes everything that
/// has queued up, decides each command in order against the evolving state, and writes all resulting events in
/// ONE append at the expected revision. A hot stream (a partner's wallet under hundreds of concurrent orders)
/// therefore costs one round trip per batch instead of collapsing into optimistic-concurrency retries.
/// </para>
/// <para>
/// The state and revision of each stream are cached, so a long stream is not re-read from the start. Another node
/// writing the same stream shows up as a wrong expected revision: the lane reads only the newer events, evolves
/// the cached state and decides the batch again. A refusal or a no-op appends nothing and so meets no conflict: a batch that
/// refuses anything, or finds anything already done, on the cached state reads the newer events first, and the answer stands
/// only on the stream as it is.
/// </para>
/// <para>
/// An aggregate with a snapshot version is also snapshotted (<paramref name="snapshots"/>, <paramref name="snapshotSettings"/>):
/// a stream not cached is loaded from its newest snapshot and the events after it. Snapshots are written in the background,
/// never on a command's path; one that does not match (another tag, unreadable bytes, an anchor event not in the stream) is
/// ignored, counted, and the stream folded from its start.
/// </para>
/// <para>
/// An aggregate with a memory (<see cref="AggregateMemory{TState,TCommand,TEvent}"/>, the wallet) on a store that finds events by
/// transfer id keeps its cached and snapshotted state bounded: past a bound the state forgets its closed records (closed
/// holds, posted transfers), and before a batch is decided the records its commands name that the state may lack are
/// refolded from the stream's events carrying them, up to the state's revision. The decisions are the full fold's.
/// </para>
/// </summary>
public sealed class AggregateCommands<TState, TCommand, TEvent>(
    Aggregate<TState, TCommand, TEvent> aggregate,
    IEventStore store,
    EventTypeRegistry registry,
    ILogger logger,
    int maxBatch = 256,
    int maxCachedStreams = 100_000,
    ISnapshotStore? snapshots = null,
    SnapshotSettings? snapshotSettings = null,
    int? rememberAtMost = null)
    where TEvent : class
{
    /// <summary>A stream's state after the event <paramref name="LastEventId"/> at <paramref name="Revision"/> (-1: no stream yet).</summary>
    private readonly record struct Folded(TState State, long Revision, Guid LastEventId);

    private const int PageSize = 1_000;

    /// <param name="Unknown">The keys the decision reads that a lean state may lack (null: none, no memory).</param>
    /// <param name="New">Issued as <see cref="ExecuteOnNew"/>: the stream is taken to be new unless this process holds it.</param>
    private sealed record Pending(Func<TState, Decision<TEvent>> Decide, Func<TState, IReadOnlyList<string>>? Unknown, EventMetadata Metadata,
        long? IfMatch, string? EventIdSeed, TaskCompletionSource<CommandOutcome<TState>> Done, long StartedAt, bool New = false);

    private readonly string aggregateName = aggregate.Name;
    private readonly TState initial = aggregate.Initial;
    private readonly Func<TState, TEvent, TState> evolve = aggregate.Evolve;

    /// <summary>The aggregate's memory when this store can recall what it forgets; null: every state is the full fold.</summary>
    private readonly AggregateMemory<TState, TCommand, TEvent>? memory = aggregate.Memory is { } m && store is IEventsByTransferId ? m : null;
    private readonly int rememberAtMost = rememberAtMost ?? aggregate.Memory?.RememberAtMost ?? 0;
    private long eventsRecalled;

    /// <summary>Events this instance has read by transfer id to recall forgotten records (for tests and the cold-start bench).</summary>
    public long EventsRecalled => Interlocked.Read(ref eventsRecalled);

    private sealed class Lane
    {
        public readonly List<Pending> Queue = [];
        public bool Running;
        /// <summary>Drained and removed from <c>lanes</c>: takes no more commands (the next one opens a new lane).</summary>
        public bool Retired;
    }

    private readonly ConcurrentDictionary<string, Lane> lanes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Folded> cache = new(StringComparer.Ordinal);

    private readonly SnapshotFormat<TState>? snapshotFormat = aggregate.SnapshotVersion is { } version && snapshots is not null
        && snapshotSettings is { Enabled: true } ? new SnapshotFormat<TState>(aggregate.Name, version, typeof(TEvent), registry) : null;
    private readonly int snapshotEvery = snapshotSettings?.EveryEvents ?? 0;
    /// <summary>Per stream: the newest state due to be snapshotted (and whether it replaces whatever is stored).</summary>
    private readonly Dictionary<string, (Folded Folded, bool Replace)> dueSnapshots = new(StringComparer.Ordinal);
    /// <summary>Per stream: its snapshot writer, while one runs (guarded by <see cref="dueSnapshots"/>).</summary>
    private readonly Dictionary<string, Task> snapshotWriters = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim snapshotSlots = new(2);
    private readonly ConcurrentDictionary<string, byte> warned = new(StringComparer.Ordinal);
    /// <summary>Per stream: the revision and size of its snapshot as last read or written here.</summary>
    private readonly ConcurrentDictionary<string, (long Revision, int Bytes)> lastSnapshots = new(StringComparer.Ordinal);

    /// <summary>
    /// A snapshot is rewritten at most every (its size / this) events, so a wallet whose state is large (its idempotency
    /// memory grows with every transfer id) writes at most about this many snapshot bytes per event appended.
    /// </summary>
    public const int SnapshotBytesPerEvent = 1_024;
    private long eventsRead;

    /// <summary>Events this instance has read from the store to load streams (for tests and the cold-start bench).</summary>
    public long EventsRead => Interlocked.Read(ref eventsRead);

    /// <summary>The tag snapshots of this aggregate are written and accepted under; null when it is not snapshotted.</summary>
    public string? SnapshotTag => snapshotFormat?.Tag;

    /// <summary>Completes when the snapshot writes started so far have finished.</summary>
    public Task SnapshotWrites()
    {
        lock (dueSnapshots) return Task.WhenAll(snapshotWriters.Values.ToList());
    }

    /// <summary>Streams with commands queued or running right now (idle streams hold no lane).</summary>
    public int OpenLanes => lanes.Count;

    /// <summary>
    /// Decides <paramref name="command"/> with the aggregate's <c>Decide</c> on stream <paramref name="streamId"/> and appends what it
    /// emits; completes when its batch is durable.
    /// </summary>
    /// <param name="ifMatch">
    /// The revision the caller saw (HTTP If-Match): when the stream is elsewhere the command is refused with
    /// <see cref="CommandErrors.PreconditionFailed"/> and appends nothing. Checked before the command queues (it fails fast) and
    /// again when its batch decides it.
    /// </param>
    /// <param name="eventIdSeed">
    /// Set when the command carries an id of its own (an API key id, "onboarded"): event ids are then derived from the stream,
    /// the event type and this seed, so a repeat that slips past <c>Decide</c> still appends nothing (the store keeps event ids idempotent).
    /// Null: random event ids.
    /// </param>
    public Task<CommandOutcome<TState>> Execute(string streamId, TCommand command, EventMetadata metadata, long? ifMatch = null, string? eventIdSeed = null,
        CancellationToken ct = default) =>
        Run(streamId, state => aggregate.Decide(command, state), memory is { } m ? state => m.Unknown(command, state) : null, metadata, ifMatch,
            eventIdSeed, ct);

    /// <summary>
    /// As <see cref="Execute(string,TCommand,EventMetadata,long?,string?,CancellationToken)"/> for a command that normally creates
    /// its stream (a placement: the order id is new): a stream this process does not hold is decided on the empty state without
    /// reading it, and appended as "no stream". When the stream exists after all, the append meets it (a refusal or a no-op reads it
    /// first), the stream is read and the command decided again on it: the outcome is <c>Execute</c>'s, one read cheaper when new.
    /// </summary>
    public Task<CommandOutcome<TState>> ExecuteOnNew(string streamId, TCommand command, EventMetadata metadata, CancellationToken ct = default) =>
        Run(streamId, state => aggregate.Decide(command, state), memory is { } m ? state => m.Unknown(command, state) : null, metadata, null,
            null, ct, isNew: true);

    /// <summary>
    /// As <see cref="Execute(string,TCommand,EventMetadata,long?,string?,CancellationToken)"/> with a decision of the caller's own.
    /// Not for an aggregate with a memory: what such a decision reads is not known, so it could not be recalled.
    /// </summary>
    public Task<CommandOutcome<TState>> Execute(string streamId, Func<TState, Decision<TEvent>> decide, EventMetadata metadata, long? ifMatch = null,
        string? eventIdSeed = null, CancellationToken ct = default) =>
        memory is null ? Run(streamId, decide, null, metadata, ifMatch, eventIdSeed, ct)
            : throw new InvalidOperationException($"{aggregateName} states forget what only repeats need: execute a command, not a decision.");

    private async Task<CommandOutcome<TState>> Run(string streamId, Func<TState, Decision<TEvent>> decide, Func<TState, IReadOnlyList<string>>? unknown,
        EventMetadata metadata, long? ifMatch, string? eventIdSeed, CancellationToken ct, bool isNew = false)
    {
        if (ifMatch is { } expected)
        {
            // Fail fast: a stale If-Match is refused without waiting behind the stream's queue.
            var (state, revision) = await Load(streamId, ct);
            if (revision != expected) return Refused(state, revision, CommandErrors.PreconditionFailed(expected, revision));
        }
        var pending = new Pending(decide, unknown, metadata, ifMatch, eventIdSeed,
            new TaskCompletionSource<CommandOutcome<TState>>(TaskCreationOptions.RunContinuationsAsynchronously), Stopwatch.GetTimestamp(), isNew);
        Lane lane;
        bool start;
        while (true)
        {
            lane = lanes.GetOrAdd(streamId, _ => new Lane());
            lock (lane)
            {
                if (lane.Retired) continue; // it emptied and left the map just now: one lane per stream, so take the new one
                lane.Queue.Add(pending);
                start = !lane.Running;
                lane.Running = true;
            }
            break;
        }
        if (start) _ = Task.Run(() => Drain(streamId, lane));
        // The caller may stop waiting; the command itself still completes (or not) as part of its batch.
        return await pending.Done.Task.WaitAsync(ct);
    }

    private static CommandOutcome<TState> Refused(TState state, long revision, DomainError error) => new(state, revision, [], error, LogPosition.Start);

    /// <summary>The current state of a stream (cached, caught up with the store).</summary>
    public async Task<(TState State, long Revision)> Load(string streamId, CancellationToken ct = default)
    {
        var loaded = Compact(cache.TryGetValue(streamId, out var cached) ? await CatchUp(streamId, cached, ct) : await LoadUncached(streamId, ct));
        // Remember what was read — "no stream yet" too (a placement loads the order, then creates it) — so the next
        // load or command reads only newer events; a batch that appended meanwhile has cached a newer revision, which stays.
        cache.AddOrUpdate(streamId, loaded, (_, current) => current.Revision >= loaded.Revision ? current : loaded);
        TrimCache();
        return (loaded.State, loaded.Revision);
    }

    /// <summary>
    /// The state as this process last saw it, without a read when the stream is cached with at least one event (else as
    /// <see cref="Load"/>). Only for what never changes once written (an order's placement: its partner, lines and prices):
    /// the cache may miss what another node appended since; anything that can change is read with <see cref="Load"/>.
    /// </summary>
    public async Task<TState> LoadImmutable(string streamId, CancellationToken ct = default) =>
        cache.TryGetValue(streamId, out var cached) && cached.Revision >= 0 ? cached.State : (await Load(streamId, ct)).State;

    /// <summary>
    /// The state at exactly <paramref name="revision"/> when this process holds the stream there (no read); false otherwise. For
    /// a follower of the log that needs the state as of an event it sees: that event is usually the newest this process wrote.
    /// </summary>
    public bool TryCachedAt(string streamId, long revision, out TState state)
    {
        var held = cache.TryGetValue(streamId, out var cached) && cached.Revision == revision && (memory is null || !memory.IsLean(cached.State));
        state = held ? cached.State : initial;
        return held;
    }

    private async Task Drain(string streamId, Lane lane)
    {
        while (true)
        {
            List<Pending> batch;
            lock (lane)
            {
                if (lane.Queue.Count == 0)
                {
                    // An idle lane leaves the map, or every order, reservation and product ever touched would keep one.
                    lane.Running = false;
                    lane.Retired = true;
                    lanes.TryRemove(new KeyValuePair<string, Lane>(streamId, lane));
                    return;
                }
                var take = Math.Min(lane.Queue.Count, maxBatch);
                batch = lane.Queue.GetRange(0, take);
                lane.Queue.RemoveRange(0, take);
            }
            try { await Process(streamId, batch); }
            catch (Exception e)
            {
                cache.TryRemove(streamId, out _); // unknown outcome: re-read before the next decision
                logger.LogError(e, "{Aggregate} batch of {Count} on {Stream} failed", aggregateName, batch.Count, streamId);
                foreach (var p in batch) p.Done.TrySetException(e);
            }
        }
    }

    private async Task Process(string streamId, List<Pending> batch)
    {
        // fromCache: the state may be behind the stream (cached, or taken to be new unread), so a refusal or no-op reads first.
        var fromCache = cache.TryGetValue(streamId, out var cached);
        if (!fromCache && batch.TrueForAll(p => p.New)) (cached, fromCache) = (new Folded(initial, -1, Guid.Empty), true);
        var (state, revision, lastEventId) = fromCache ? cached : await LoadUncached(streamId, CancellationToken.None);
        // The records this batch reads that the state forgot; from here on the state is not compacted until the batch is done
        // (the catch-ups below only add what newer events write, so the recalled records stay right).
        if (memory is not null) state = await Recall(streamId, state, revision, batch);
        CommandMetrics.BatchSize.WithLabels(aggregateName).Observe(batch.Count);
        for (var attempt = 1; ; attempt++)
        {
            var current = state;
            var toAppend = new List<EventData>();
            var decided = new List<(Pending Command, TState After, List<object> Events, DomainError? Error, int LastIndex)>(batch.Count);
            foreach (var p in batch)
            {
                if (p.IfMatch is { } expected && expected != revision + toAppend.Count)
                {
                    // The stream moved on since the caller read it (an earlier command of this batch, or another writer).
                    decided.Add((p, current, [], CommandErrors.PreconditionFailed(expected, revision + toAppend.Count), -1));
                    continue;
                }
                Decision<TEvent> decision;
                try { decision = p.Decide(current); }
                catch (Exception e) { p.Done.TrySetException(e); continue; }
                if (decision.Failed)
                {
                    decided.Add((p, current, [], decision.Error, -1));
                    continue;
                }
                for (var i = 0; i < decision.Events.Count; i++)
                {
                    var e = decision.Events[i];
                    current = evolve(current, e);
                    var type = registry.NameOf(e.GetType());
                    var id = p.EventIdSeed is null ? Guid.NewGuid() : DeterministicIds.For($"{streamId}|{type}|{p.EventIdSeed}|{i}");
                    toAppend.Add(new EventData(id, type, registry.Serialize(e), p.Metadata));
                }
                decided.Add((p, current, [.. decision.Events], null, toAppend.Count - 1));
            }

            if (fromCache && decided.Any(d => d.Error is not null || d.Events.Count == 0))
            {
                // A refusal decided on the cached state: another node may have written the stream since (a deposit, the
                // hold a capture names), and a refusal appends nothing, so no expected-revision conflict would reveal it.
                // So with a no-op: "already frozen" on a cache that missed another node's unfreeze would change nothing.
                // Read the newer events, if any, and decide the batch again before refusing anyone.
                fromCache = false;
                var caughtUp = await CatchUp(streamId, new Folded(state, revision, lastEventId), CancellationToken.None);
                if (caughtUp.Revision != revision)
                {
                    CommandMetrics.Conflicts.WithLabels(aggregateName).Inc();
                    (state, revision, lastEventId) = caughtUp;
                    continue;
                }
            }

            var position = LogPosition.Start;
            if (toAppend.Count > 0)
            {
                try
                {
                    var result = await store.Append(streamId, ExpectedRevision.After(revision < 0 ? null : new StreamRevision(revision)), toAppend);
                    position = result.Position;
                    if (result.CurrentRevision.Value != revision + toAppend.Count)
                    {
                        // Deterministic event ids already stored (a repeat the decision did not see): the store answered the
                        // first append's result. Re-read the stream rather than trust the counted revision.
                        cache.TryRemove(streamId, out _);
                        (state, revision, _) = await LoadUncached(streamId, CancellationToken.None);
                        foreach (var d in decided) d.Command.Done.TrySetResult(new CommandOutcome<TState>(state, revision, [], d.Error, position));
                        return;
                    }
                }
                catch (WrongExpectedRevisionException) when (attempt < 10)
                {
                    // Another node wrote this stream: take its events and decide the whole batch again.
                    CommandMetrics.Conflicts.WithLabels(aggregateName).Inc();
                    (state, revision, lastEventId) = await CatchUp(streamId, new Folded(state, revision, lastEventId), CancellationToken.None);
                    fromCache = false;
                    continue;
                }
            }

            if (aggregate.Appended is { } appended)
                foreach (var d in decided)
                    foreach (var e in d.Events)
                        appended((TEvent)e);

            var firstRevision = revision + 1;
            revision += toAppend.Count;
            var folded = Compact(new Folded(current, revision, toAppend.Count > 0 ? toAppend[^1].EventId : lastEventId));
            cache[streamId] = folded;
            TrimCache();
            // Each time the stream's event count passes a multiple of snapshotEvery (after the outcomes: nothing waits on it).
            var snapshotDue = snapshotFormat is not null && toAppend.Count > 0 && (revision + 1) / snapshotEvery > firstRevision / snapshotEvery
                && (!lastSnapshots.TryGetValue(streamId, out var last) || revision - last.Revision >= last.Bytes / SnapshotBytesPerEvent);
            foreach (var d in decided)
            {
                // A command's revision is that of its own last event, or the stream's when it added none.
                var ownRevision = d.LastIndex >= 0 ? firstRevision + d.LastIndex : revision;
                CommandMetrics.Seconds.WithLabels(aggregateName).Observe(Stopwatch.GetElapsedTime(d.Command.StartedAt).TotalSeconds);
                d.Command.Done.TrySetResult(new CommandOutcome<TState>(d.After, ownRevision, d.Events, d.Error, position));
            }
            if (snapshotDue) WriteSnapshotSoon(streamId, folded, replace: false);
            return;
        }
    }

    /// <summary>
    /// Evolves <paramref name="folded"/> with every event after its revision; with <paramref name="compact"/> the state forgets
    /// (when it has a memory) after each page, so a long stream is folded in bounded memory.
    /// </summary>
    private async Task<Folded> CatchUp(string streamId, Folded folded, CancellationToken ct, bool compact = false)
    {
        while (true)
        {
            var slice = await store.ReadStream(streamId, ReadDirection.Forwards, new StreamRevision(folded.Revision + 1), PageSize, ct);
            folded = Evolve(folded, slice.Events, 0);
            if (compact) folded = Compact(folded);
            if (slice.Events.Count < PageSize) return folded;
        }
    }

    /// <summary>The state without what it may forget (when it has a memory and is past the bound).</summary>
    private Folded Compact(Folded folded) => memory is null ? folded : folded with { State = memory.Forget(folded.State, rememberAtMost) };

    /// <summary>
    /// <paramref name="state"/> (at <paramref name="revision"/>) with the records the batch's commands read and it may have
    /// forgotten, folded from the stream's events that carry their transfer ids up to that revision: what the full fold holds.
    /// </summary>
    private async Task<TState> Recall(string streamId, TState state, long revision, List<Pending> batch)
    {
        if (revision < 0 || !memory!.IsLean(state)) return state;
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in batch)
            if (p.Unknown is { } unknown) keys.UnionWith(unknown(state));
        if (keys.Count == 0) return state;
        var events = await ((IEventsByTransferId)store).ReadByTransferIds(streamId, memory.TransferIdsFor(keys), revision);
        Interlocked.Add(ref eventsRecalled, events.Count);
        CommandMetrics.Recalls.WithLabels(aggregateName).Inc();
        return memory.Recall(state, keys, events.Select(e => registry.Deserialize(e.Type, e.Data.Span)).OfType<TEvent>().ToList());
    }

    private Folded Evolve(Folded folded, IReadOnlyList<RecordedEvent> events, int from)
    {
        var (state, revision, lastEventId) = folded;
        for (var i = from; i < events.Count; i++)
        {
            var e = events[i];
            if (registry.Deserialize(e.Type, e.Data.Span) is TEvent typed) state = evolve(state, typed);
            revision = e.Revision.Value;
            lastEventId = e.EventId;
        }
        Interlocked.Add(ref eventsRead, events.Count - from);
        CommandMetrics.EventsRead.WithLabels(aggregateName).Inc(events.Count - from);
        return new Folded(state, revision, lastEventId);
    }

    /// <summary>A stream not in the cache: from its snapshot and the events after it, or (no usable snapshot) from its start.</summary>
    private async Task<Folded> LoadUncached(string streamId, CancellationToken ct)
    {
        if (snapshotFormat is null) return await CatchUp(streamId, new Folded(initial, -1, Guid.Empty), ct, compact: true);
        var (fromSnapshot, unusable) = await FromSnapshot(streamId, snapshotFormat, ct);
        if (fromSnapshot is { } loaded) return loaded;
        var full = await CatchUp(streamId, new Folded(initial, -1, Guid.Empty), ct, compact: true);
        // Folded in full: a snapshot spares the next load that (and one found unusable is replaced, whatever its revision).
        if (unusable || full.Revision + 1 >= snapshotEvery) WriteSnapshotSoon(streamId, full, replace: unusable);
        return full;
    }

    /// <summary>The stream from its snapshot, or null (and whether a snapshot was there but unusable).</summary>
    private async Task<(Folded? Loaded, bool Unusable)> FromSnapshot(string streamId, SnapshotFormat<TState> format, CancellationToken ct)
    {
        Snapshot? stored;
        try { stored = await snapshots!.Read(streamId, ct); }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Ignored("failed", streamId, null, e);
            return (null, false);
        }
        if (stored is null)
        {
            CommandMetrics.SnapshotLoads.WithLabels(aggregateName, "none").Inc();
            return (null, false);
        }
        if (stored.Tag != format.Tag)
        {
            Ignored("other_tag", streamId, stored, null);
            return (null, true);
        }
        TState state;
        try { state = format.Deserialize(stored.State); }
        catch (Exception e)
        {
            Ignored("corrupt", streamId, stored, e);
            return (null, true);
        }
        if (memory is null && aggregate.Memory is { } lean && lean.IsLean(state))
        {
            // Written where forgotten records could be recalled; this store cannot look them up.
            Ignored("lean", streamId, stored, null);
            return (null, true);
        }
        // The tail is read from the snapshot's own revision: that event must be the one the snapshot was taken after, or the
        // snapshot belongs to another history of this stream (a store reset, a restored backup) and is not trusted.
        var slice = await store.ReadStream(streamId, ReadDirection.Forwards, new StreamRevision(stored.Revision), PageSize, ct);
        if (slice.Events.Count == 0 || slice.Events[0].Revision.Value != stored.Revision || slice.Events[0].EventId != stored.EventId)
        {
            Ignored("other_history", streamId, stored, null);
            return (null, true);
        }
        lastSnapshots[streamId] = (stored.Revision, stored.State.Length);
        var folded = Compact(Evolve(new Folded(state, stored.Revision, stored.EventId), slice.Events, 1));
        Interlocked.Increment(ref eventsRead); // the anchor event was read too
        CommandMetrics.EventsRead.WithLabels(aggregateName).Inc();
        if (slice.Events.Count == PageSize) folded = await CatchUp(streamId, folded, ct, compact: true);
        CommandMetrics.SnapshotLoads.WithLabels(aggregateName, "used").Inc();
        if (folded.Revision - stored.Revision >= Math.Max(snapshotEvery, stored.State.Length / SnapshotBytesPerEvent))
            WriteSnapshotSoon(streamId, folded, replace: false);
        return (folded, false);
    }

    /// <summary>Counts an ignored snapshot; logs the first of each kind (per tag) in this process.</summary>
    private void Ignored(string outcome, string streamId, Snapshot? stored, Exception? error)
    {
        CommandMetrics.SnapshotLoads.WithLabels(aggregateName, outcome).Inc();
        if (!warned.TryAdd($"{outcome}|{stored?.Tag}", 0)) return;
        logger.LogWarning(error, "{Aggregate} snapshot of {Stream} at revision {Revision} ignored ({Outcome}; tag {Tag}, this build's {OwnTag}): "
            + "the stream is folded from its start (logged once per kind; steller_snapshot_loads_total counts them all)",
            aggregateName, streamId, stored?.Revision, outcome, stored?.Tag, snapshotFormat?.Tag);
    }

    /// <summary>
    /// Serializes and stores a snapshot in the background: one writer per stream, which writes the newest state due when it
    /// gets to it (a state due while another is being written is not lost, and older ones are skipped); two writers at once in all.
    /// </summary>
    private void WriteSnapshotSoon(string streamId, Folded folded, bool replace)
    {
        if (snapshotFormat is not { } format || folded.Revision < 0) return;
        TaskCompletionSource done;
        lock (dueSnapshots)
        {
            dueSnapshots[streamId] = dueSnapshots.TryGetValue(streamId, out var due)
                ? (due.Folded.Revision >= folded.Revision ? due.Folded : folded, due.Replace || replace)
                : (folded, replace);
            if (snapshotWriters.ContainsKey(streamId)) return;
            done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            snapshotWriters[streamId] = done.Task;
        }
        _ = Task.Run(async () =>
        {
            while (true)
            {
                (Folded Folded, bool Replace) next;
                lock (dueSnapshots)
                {
                    if (!dueSnapshots.Remove(streamId, out next))
                    {
                        snapshotWriters.Remove(streamId);
                        break;
                    }
                }
                await snapshotSlots.WaitAsync();
                try
                {
                    var bytes = format.Serialize(next.Folded.State);
                    await snapshots!.Write(new Snapshot(streamId, next.Folded.Revision, next.Folded.LastEventId, format.Tag, bytes), next.Replace);
                    lastSnapshots[streamId] = (next.Folded.Revision, bytes.Length);
                    CommandMetrics.SnapshotWrites.WithLabels(aggregateName, "written").Inc();
                }
                catch (Exception e)
                {
                    CommandMetrics.SnapshotWrites.WithLabels(aggregateName, "failed").Inc();
                    logger.LogWarning(e, "{Aggregate} snapshot of {Stream} at revision {Revision} not written", aggregateName, streamId,
                        next.Folded.Revision);
                }
                finally { snapshotSlots.Release(); }
            }
            done.SetResult();
        });
    }

    private void TrimCache()
    {
        if (cache.Count <= maxCachedStreams) return;
        // Crude but bounded: forget an arbitrary tenth; a forgotten stream is simply read again.
        foreach (var key in cache.Keys.Take(maxCachedStreams / 10)) cache.TryRemove(key, out _);
        if (lastSnapshots.Count > maxCachedStreams)
            foreach (var key in lastSnapshots.Keys.Take(maxCachedStreams / 10)) lastSnapshots.TryRemove(key, out _);
    }
}
