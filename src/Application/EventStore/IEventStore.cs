namespace Steller.Application.EventStore;

/// <summary>
/// The write side's only storage port. Streams of events with EventStoreDB-compatible revisions,
/// plus one global log in a total order. Two adapters implement it (PostgreSQL, EventStoreDB);
/// both must pass the shared contract suite in tests/Steller.EventStore.Contract.
/// </summary>
public interface IEventStore
{
    /// <summary>
    /// Appends atomically. Throws <see cref="WrongExpectedRevisionException"/> on a mismatch.
    /// Re-appending event ids already in the stream is an idempotent no-op that returns the original result.
    /// </summary>
    Task<AppendResult> Append(string streamId, ExpectedRevision expected, IReadOnlyList<EventData> events, CancellationToken ct = default);

    /// <summary>
    /// Reads up to <paramref name="maxCount"/> events of one stream starting at <paramref name="from"/> (inclusive).
    /// <paramref name="from"/> null means the start (forwards) or the end (backwards).
    /// </summary>
    Task<StreamSlice> ReadStream(string streamId, ReadDirection direction = ReadDirection.Forwards, StreamRevision? from = null,
        int maxCount = int.MaxValue, CancellationToken ct = default);

    /// <summary>Reads the global log strictly after <paramref name="after"/>, in log order, never skipping an event.</summary>
    Task<IReadOnlyList<RecordedEvent>> ReadAll(LogPosition after, int maxCount, CancellationToken ct = default);

    /// <summary>
    /// Every event after <paramref name="after"/>: history first, then live events as they commit. Ends only on cancellation.
    /// </summary>
    IAsyncEnumerable<RecordedEvent> SubscribeToAll(LogPosition after, CancellationToken ct = default);
}
