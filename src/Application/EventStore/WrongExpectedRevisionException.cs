namespace Steller.Application.EventStore;

/// <summary>The stream was not where the writer expected it. <see cref="ActualRevision"/> is null when the stream does not exist.</summary>
public sealed class WrongExpectedRevisionException(string streamId, ExpectedRevision expected, StreamRevision? actual)
    : Exception($"Append to '{streamId}' expected revision {expected} but the stream is at "
        + $"{(actual is { } a ? a.ToString() : "no-stream")}.")
{
    public string StreamId { get; } = streamId;
    public ExpectedRevision Expected { get; } = expected;
    public StreamRevision? ActualRevision { get; } = actual;
}

/// <summary>The caller asked for something the store cannot accept (checked before anything is sent).</summary>
public sealed class InvalidAppendException(string message) : ArgumentException(message);
