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
/// the cached state and decides the batch again.
/// </para>
/// </summary>
public sealed class AggregateCommands<TState, TCommand, TEvent>(
    Aggregate<TState, TCommand, TEvent> aggregate,
    IEventStore store,
    EventTypeRegistry registry,
    ILogger logger,
    int maxBatch = 256,
    int maxCachedStreams = 100_000)
    where TEvent : class
{
    private sealed record Pending(Func<TState, Decision<TEvent>> Decide, EventMetadata Metadata, long? IfMatch, string? EventIdSeed,
        TaskCompletionSource<CommandOutcome<TState>> Done, long StartedAt);

    private readonly string aggregateName = aggregate.Name;
    private readonly TState initial = aggregate.Initial;
    private readonly Func<TState, TEvent, TState> evolve = aggregate.Evolve;

    private sealed class Lane
    {
        public readonly List<Pending> Queue = [];
        public bool Running;
        /// <summary>Drained and removed from <c>lanes</c>: takes no more commands (the next one opens a new lane).</summary>
        public bool Retired;
    }

    private readonly ConcurrentDictionary<string, Lane> lanes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (TState State, long Revision)> cache = new(StringComparer.Ordinal);

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
        Execute(streamId, state => aggregate.Decide(command, state), metadata, ifMatch, eventIdSeed, ct);

    /// <summary>As <see cref="Execute(string,TCommand,EventMetadata,long?,string?,CancellationToken)"/> with a decision of the caller's own.</summary>
    public async Task<CommandOutcome<TState>> Execute(string streamId, Func<TState, Decision<TEvent>> decide, EventMetadata metadata, long? ifMatch = null,
        string? eventIdSeed = null, CancellationToken ct = default)
    {
        if (ifMatch is { } expected)
        {
            // Fail fast: a stale If-Match is refused without waiting behind the stream's queue.
            var (state, revision) = await Load(streamId, ct);
            if (revision != expected) return Refused(state, revision, CommandErrors.PreconditionFailed(expected, revision));
        }
        var pending = new Pending(decide, metadata, ifMatch, eventIdSeed,
            new TaskCompletionSource<CommandOutcome<TState>>(TaskCreationOptions.RunContinuationsAsynchronously), Stopwatch.GetTimestamp());
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
        var (state, revision) = cache.TryGetValue(streamId, out var cached) ? cached : (initial, -1L);
        var loaded = await CatchUp(streamId, state, revision, ct);
        // Remember what was read — "no stream yet" too (a placement loads the order, then creates it) — so the next
        // load or command reads only newer events; a batch that appended meanwhile has cached a newer revision, which stays.
        cache.AddOrUpdate(streamId, loaded, (_, current) => current.Revision >= loaded.Item2 ? current : loaded);
        TrimCache();
        return loaded;
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
        var (state, revision) = cache.TryGetValue(streamId, out var cached) ? cached : await CatchUp(streamId, initial, -1, CancellationToken.None);
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
                        (state, revision) = await CatchUp(streamId, initial, -1, CancellationToken.None);
                        foreach (var d in decided) d.Command.Done.TrySetResult(new CommandOutcome<TState>(state, revision, [], d.Error, position));
                        return;
                    }
                }
                catch (WrongExpectedRevisionException) when (attempt < 10)
                {
                    // Another node wrote this stream: take its events and decide the whole batch again.
                    CommandMetrics.Conflicts.WithLabels(aggregateName).Inc();
                    (state, revision) = await CatchUp(streamId, state, revision, CancellationToken.None);
                    continue;
                }
            }

            if (aggregate.Appended is { } appended)
                foreach (var d in decided)
                    foreach (var e in d.Events)
                        appended((TEvent)e);

            var firstRevision = revision + 1;
            revision += toAppend.Count;
            cache[streamId] = (current, revision);
            TrimCache();
            foreach (var d in decided)
            {
                // A command's revision is that of its own last event, or the stream's when it added none.
                var ownRevision = d.LastIndex >= 0 ? firstRevision + d.LastIndex : revision;
                CommandMetrics.Seconds.WithLabels(aggregateName).Observe(Stopwatch.GetElapsedTime(d.Command.StartedAt).TotalSeconds);
                d.Command.Done.TrySetResult(new CommandOutcome<TState>(d.After, ownRevision, d.Events, d.Error, position));
            }
            return;
        }
    }

    /// <summary>Evolves <paramref name="state"/> with every event after <paramref name="revision"/>.</summary>
    private async Task<(TState, long)> CatchUp(string streamId, TState state, long revision, CancellationToken ct)
    {
        while (true)
        {
            var slice = await store.ReadStream(streamId, ReadDirection.Forwards, new StreamRevision(revision + 1), 1_000, ct);
            foreach (var e in slice.Events)
            {
                if (registry.Deserialize(e.Type, e.Data.Span) is TEvent typed) state = evolve(state, typed);
                revision = e.Revision.Value;
            }
            if (slice.Events.Count < 1_000) return (state, revision);
        }
    }

    private void TrimCache()
    {
        if (cache.Count <= maxCachedStreams) return;
        // Crude but bounded: forget an arbitrary tenth; a forgotten stream is simply read again.
        foreach (var key in cache.Keys.Take(maxCachedStreams / 10)) cache.TryRemove(key, out _);
    }
}
