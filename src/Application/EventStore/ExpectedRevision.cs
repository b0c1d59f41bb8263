namespace Steller.Application.EventStore;

/// <summary>What the writer believes about the stream before its append (EventStoreDB semantics).</summary>
public readonly record struct ExpectedRevision
{
    private const long NoStreamValue = -1, AnyValue = -2, StreamExistsValue = -3;

    private ExpectedRevision(long value) => Value = value;

    /// <summary>-1 no stream, -2 any, -3 stream exists, ≥ 0 the exact revision of the last event.</summary>
    public long Value { get; }

    public static readonly ExpectedRevision NoStream = new(NoStreamValue);
    public static readonly ExpectedRevision Any = new(AnyValue);
    public static readonly ExpectedRevision StreamExists = new(StreamExistsValue);

    public static ExpectedRevision Exact(long revision) =>
        revision >= 0 ? new(revision) : throw new ArgumentOutOfRangeException(nameof(revision), "An exact revision is 0 or more.");

    /// <summary>The revision a freshly loaded stream should be appended at: none yet, or its last revision.</summary>
    public static ExpectedRevision After(StreamRevision? lastRevision) =>
        lastRevision is { } r ? Exact(r.Value) : NoStream;

    public bool IsExact => Value >= 0;

    public override string ToString() => Value switch
    {
        NoStreamValue => "no-stream",
        AnyValue => "any",
        StreamExistsValue => "stream-exists",
        _ => Value.ToString(),
    };
}

/// <summary>Revision of an event inside its stream; the first event is 0.</summary>
public readonly record struct StreamRevision(long Value) : IComparable<StreamRevision>
{
    public static readonly StreamRevision First = new(0);
    public int CompareTo(StreamRevision other) => Value.CompareTo(other.Value);
    public override string ToString() => Value.ToString();
}
