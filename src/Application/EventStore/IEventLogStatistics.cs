namespace Steller.Application.EventStore;

/// <summary>Optional capability of a store: how many events lie after a position (for lag and ETA figures).</summary>
public interface IEventLogStatistics
{
    Task<long> CountAfter(LogPosition after, CancellationToken ct = default);
}
