namespace Steller.Application.EventStore;

/// <summary>
/// Optional capability of a store whose global-log subscription is filtered on the server (EventStoreDB): besides the
/// events it reports checkpoints, positions it has scanned past with nothing to deliver. A consumer may persist a
/// checkpoint as its resume position exactly like an event's position (subscribing after it is safe), so a
/// restart does not rescan traffic it never sees (system events, other applications' streams).
/// </summary>
public interface ICheckpointingLog
{
    /// <summary>Like <see cref="IEventStore.SubscribeToAll"/>, but also yields checkpoints (items without an event).</summary>
    IAsyncEnumerable<LogItem> SubscribeToAllWithCheckpoints(LogPosition after, CancellationToken ct = default);
}

/// <summary>An event of the global log, or (when <see cref="Event"/> is null) a checkpoint at <see cref="Position"/>.</summary>
public readonly record struct LogItem(LogPosition Position, RecordedEvent? Event)
{
    public bool IsCheckpoint => Event is null;
}
