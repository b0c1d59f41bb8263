using Prometheus;

namespace Steller.Projections.Engine;

public static class ProjectionMetrics
{
    public static readonly Gauge LagSeconds = Metrics.CreateGauge("steller_projection_lag_seconds",
        "Age of the newest event a projection has applied while more are waiting; 0 when caught up.", "projection");
    public static readonly Counter EventsApplied = Metrics.CreateCounter("steller_projection_events_total",
        "Events a projection has read from the log (applied or passed over).", "projection");
    public static readonly Gauge Faulted = Metrics.CreateGauge("steller_projection_faulted",
        "1 while a projection is stopped by a failing batch and retrying.", "projection");
    public static readonly Counter Parked = Metrics.CreateCounter("steller_projection_parked_total",
        "Events a projection could not apply and parked in steller.projection_parked to go on (alert on any increase).", "projection");
    public static readonly Counter CheckpointConflicts = Metrics.CreateCounter("steller_projection_checkpoint_conflicts_total",
        "Batches a projection's leader found its checkpoint moved by another runner (a node that had not yet noticed it lost the "
        + "leadership); the leader reloads its checkpoint and goes on, recording no fault.", "projection");
}
