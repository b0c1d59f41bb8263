using System.Runtime.CompilerServices;
using Steller.Application.EventStore;

namespace Steller.Application.Tests.Support;

/// <summary>
/// An <see cref="IEventStore"/> in memory, with the adapters' semantics (it passes the same contract): stream revisions
/// from 0, expected-revision checks, event ids idempotent per stream (a retried append answers the original result), one
/// global log in append order for ReadAll and subscriptions. One lock: simple, and plenty for tests.
/// </summary>
public sealed class InMemoryEventStore : IEventStore
{
    private readonly object gate = new();
    private readonly List<RecordedEvent> log = [];
    private readonly Dictionary<string, List<RecordedEvent>> streams = new(StringComparer.Ordinal);
    /// <summary>Per stream and event id: the result of the append that stored it.</summary>
    private readonly Dictionary<(string Stream, Guid EventId), AppendResult> appended = [];
    private TaskCompletionSource newEvents = NewSignal();

    /// <summary>Every event stored so far, in log order.</summary>
    public IReadOnlyList<RecordedEvent> All
    {
        get { lock (gate) return log.ToList(); }
    }

    public int CountIn(string streamId)
    {
        lock (gate) return streams.TryGetValue(streamId, out var events) ? events.Count : 0;
    }

    public Task<AppendResult> Append(string streamId, ExpectedRevision expected, IReadOnlyList<EventData> events, CancellationToken ct = default)
    {
        AppendRules.Check(streamId, events);
        TaskCompletionSource? signal = null;
        AppendResult result;
        lock (gate)
        {
            var stream = streams.GetValueOrDefault(streamId);
            StreamRevision? actual = stream is { Count: > 0 } ? new StreamRevision(stream.Count - 1) : null;
            var stored = events.Count(e => appended.ContainsKey((streamId, e.EventId)));
            if (stored == events.Count && stored > 0) return Task.FromResult(appended[(streamId, events[0].EventId)]);
            if (stored > 0 || !Matches(expected, actual)) throw new WrongExpectedRevisionException(streamId, expected, actual);
            if (events.Count == 0) return Task.FromResult(new AppendResult(actual ?? new StreamRevision(-1), LogPosition.Start));

            stream ??= streams[streamId] = [];
            foreach (var e in events)
            {
                var position = new LogPosition((ulong)log.Count + 1, 0);
                var recorded = new RecordedEvent(streamId, new StreamRevision(stream.Count), position, e.EventId, e.Type, e.Data.ToArray(), e.Metadata);
                stream.Add(recorded);
                log.Add(recorded);
            }
            result = new AppendResult(new StreamRevision(stream.Count - 1), log[^1].Position);
            foreach (var e in events) appended[(streamId, e.EventId)] = result;
            (signal, newEvents) = (newEvents, NewSignal());
        }
        signal.TrySetResult();
        return Task.FromResult(result);
    }

    private static bool Matches(ExpectedRevision expected, StreamRevision? actual) =>
        expected == ExpectedRevision.Any
        || (expected == ExpectedRevision.NoStream && actual is null)
        || (expected == ExpectedRevision.StreamExists && actual is not null)
        || (expected.IsExact && actual is { } a && a.Value == expected.Value);

    public Task<StreamSlice> ReadStream(string streamId, ReadDirection direction = ReadDirection.Forwards, StreamRevision? from = null,
        int maxCount = int.MaxValue, CancellationToken ct = default)
    {
        lock (gate)
        {
            if (!streams.TryGetValue(streamId, out var stream) || stream.Count == 0)
                return Task.FromResult(new StreamSlice(streamId, null, []));
            var last = new StreamRevision(stream.Count - 1);
            IEnumerable<RecordedEvent> events = direction == ReadDirection.Forwards
                ? stream.Skip((int)Math.Min(from?.Value ?? 0, stream.Count))
                : stream.Take((int)Math.Min((from?.Value ?? last.Value) + 1, stream.Count)).Reverse();
            return Task.FromResult(new StreamSlice(streamId, last, events.Take(maxCount).ToList()));
        }
    }

    public Task<IReadOnlyList<RecordedEvent>> ReadAll(LogPosition after, int maxCount, CancellationToken ct = default)
    {
        lock (gate) return Task.FromResult<IReadOnlyList<RecordedEvent>>(log.Where(e => e.Position > after).Take(maxCount).ToList());
    }

    public async IAsyncEnumerable<RecordedEvent> SubscribeToAll(LogPosition after, [EnumeratorCancellation] CancellationToken ct = default)
    {
        while (true)
        {
            Task signal;
            lock (gate) signal = newEvents.Task;
            var page = await ReadAll(after, 1_000, ct);
            foreach (var e in page)
            {
                yield return e;
                after = e.Position;
            }
            if (page.Count == 0) await signal.WaitAsync(ct);
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
