namespace Steller.Application.EventStore;

/// <summary>
/// Who and what caused an event. Written on every event. The correlation id comes from the edge
/// (X-Correlation-Id or traceparent); the causation id is the id of the command or event that led here.
/// </summary>
public sealed record EventMetadata(
    string CorrelationId,
    string CausationId,
    Guid CommandId,
    string Actor,
    DateTimeOffset RecordedAt);

/// <summary>An event to append. <paramref name="Data"/> is UTF-8 JSON.</summary>
public sealed record EventData(Guid EventId, string Type, ReadOnlyMemory<byte> Data, EventMetadata Metadata);

/// <summary>An event as the store holds it.</summary>
public sealed record RecordedEvent(
    string StreamId,
    StreamRevision Revision,
    LogPosition Position,
    Guid EventId,
    string Type,
    ReadOnlyMemory<byte> Data,
    EventMetadata Metadata);

/// <summary>
/// Outcome of an append: the stream's revision after it (-1 when an empty append left the stream missing) and
/// the log position of the last event written (<see cref="LogPosition.Start"/> when nothing was written).
/// </summary>
public sealed record AppendResult(StreamRevision CurrentRevision, LogPosition Position)
{
    /// <summary>The expected revision to use for the next append to the same stream.</summary>
    public ExpectedRevision NextExpectedRevision =>
        CurrentRevision.Value < 0 ? ExpectedRevision.NoStream : ExpectedRevision.Exact(CurrentRevision.Value);
}

public enum ReadDirection { Forwards, Backwards }

/// <summary>A slice of one stream. <see cref="LastRevision"/> is null when the stream does not exist.</summary>
public sealed record StreamSlice(string StreamId, StreamRevision? LastRevision, IReadOnlyList<RecordedEvent> Events)
{
    public bool StreamExists => LastRevision is not null;
}
