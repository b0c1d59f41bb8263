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
public sealed class AggregateCommands<TState, TEvent>(
    string aggregateName,
    IEventStore store,
    EventTypeRegistry registry,
    TState initial,
    Func<TState, TEvent, TState> evolve,
    ILogger logger,
    int maxBatch = 256,
    int maxCachedStreams = 100_000)
    where TEvent : class
{
    private sealed record Pending(Func<TState, Decision<TEvent>> Decide, EventMetadata Metadata, TaskCompletionSource<CommandOutcome<TState>> Done, long StartedAt);

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

    /// <summary>Decides and appends one command on <paramref name="streamId"/>; completes when its batch is durable.</summary>
    public Task<CommandOutcome<TState>> Execute(string streamId, Func<TState, Decision<TEvent>> decide, EventMetadata metadata, CancellationToken ct = default)
    {
        var pending = new Pending(decide, metadata, new TaskCompletionSource<CommandOutcome<TState>>(TaskCreationOptions.RunContinuationsAsynchronously), Stopwatch.GetTimestamp());
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
        return pending.Done.Task.WaitAsync(ct);
    }

    /// <summary>The current state of a stream (cached, caught up with the store).</summary>
    public async Task<(TState State, long Revision)> Load(string streamId, CancellationToken ct = default)
    {
        var (state, revision) = cache.TryGetValue(streamId, out var cached) ? cached : (initial, -1L);
        var loaded = await CatchUp(streamId, state, revision, ct);
        // Remember what was read, so the next load or command reads only newer events; a batch that appended
        // meanwhile has cached a newer revision, which stays.
        if (loaded.Item2 >= 0)
        {
            cache.AddOrUpdate(streamId, loaded, (_, current) => current.Revision >= loaded.Item2 ? current : loaded);
            TrimCache();
        }
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
                Decision<TEvent> decision;
                try { decision = p.Decide(current); }
                catch (Exception e) { p.Done.TrySetException(e); continue; }
                if (decision.Failed)
                {
                    decided.Add((p, current, [], decision.Error, -1));
                    continue;
                }
                foreach (var e in decision.Events)
                {
                    current = evolve(current, e);
                    toAppend.Add(new EventData(Guid.NewGuid(), registry.NameOf(e.GetType()), registry.Serialize(e), p.Metadata));
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
                }
                catch (WrongExpectedRevisionException) when (attempt < 10)
                {
                    // Another node wrote this stream: take its events and decide the whole batch again.
                    CommandMetrics.Conflicts.WithLabels(aggregateName).Inc();
                    (state, revision) = await CatchUp(streamId, state, revision, CancellationToken.None);
                    continue;
                }
            }

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
