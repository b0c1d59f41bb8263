using Steller.Application.EventStore;
using Steller.Application.Serialization;
using Steller.Application.Time;
using Steller.Projections.Engine;

namespace Steller.Projections.ProcessManagers;

/// <summary>
/// Process manager for the second half of a two-event transfer: every <typeparamref name="TSent"/> (the sending half)
/// gets its receiving half. The command that sends does both halves at once; this finishes transfers whose writer died
/// in between. Its effect is a command that is idempotent by transfer id, so re-running a batch (after a crash, or a
/// rebuild) changes nothing. A refused receiving half would leave value in transit: it throws (the manager faults and
/// retries from its checkpoint) rather than skip it.
/// </summary>
public abstract class TransferCompletion<TSent>(EventTypeRegistry registry, IClock clock, string actor) : IProcessManager
    where TSent : class
{
    public abstract string Name { get; }
    public IReadOnlySet<string> EventTypes { get; } = EventNames.Of<TSent>();

    /// <summary>
    /// Writes the receiving half of <paramref name="sent"/>, recorded on <paramref name="streamId"/>; returns why it was
    /// refused, or null when it is written (or was already). A stream of another shape is passed over (null).
    /// </summary>
    protected abstract Task<string?> Complete(string streamId, TSent sent, EventMetadata metadata, CancellationToken ct);

    public async Task Handle(IReadOnlyList<RecordedEvent> events, CancellationToken ct)
    {
        foreach (var e in events)
        {
            if (registry.Deserialize(e.Type, e.Data.Span) is not TSent sent) continue;
            var metadata = new EventMetadata(e.Metadata.CorrelationId, e.EventId.ToString(), Guid.NewGuid(), actor, clock.UtcNow);
            if (await Complete(e.StreamId, sent, metadata, ct) is { } refusal) throw new InvalidOperationException(refusal);
        }
    }
}
