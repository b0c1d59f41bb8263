using Prometheus;

namespace Steller.Application.Commands;

public static class CommandMetrics
{
    public static readonly Histogram BatchSize = Metrics.CreateHistogram("steller_command_batch_size",
        "Commands decided together and written in one append, per aggregate kind.",
        new HistogramConfiguration { LabelNames = ["aggregate"], Buckets = [1, 2, 4, 8, 16, 32, 64, 128, 256] });
    public static readonly Counter Conflicts = Metrics.CreateCounter("steller_command_conflicts_total",
        "Appends refused because another writer (another node) moved the stream first; the batch is re-decided.", "aggregate");
    public static readonly Histogram Seconds = Metrics.CreateHistogram("steller_command_seconds",
        "Time from a command's arrival to its outcome, per aggregate kind.",
        new HistogramConfiguration { LabelNames = ["aggregate"], Buckets = Histogram.ExponentialBuckets(0.0005, 2, 16) });
    public static readonly Counter EventsRead = Metrics.CreateCounter("steller_command_events_read_total",
        "Events read from the store to load streams not (or no longer) cached, per aggregate kind.", "aggregate");
    public static readonly Counter SnapshotLoads = Metrics.CreateCounter("steller_snapshot_loads_total",
        "Loads of an uncached stream of a snapshotting aggregate, by what became of its snapshot: used, none, other_tag (written "
        + "by another state shape, fold or event schema), corrupt, other_history (its anchor event is not in the stream), lean "
        + "(its state forgot records this event store cannot look up), failed (the snapshot table could not be read). Every outcome but used folds the whole stream.", "aggregate", "outcome");
    public static readonly Counter Recalls = Metrics.CreateCounter("steller_command_recalls_total",
        "Batches that looked up records their commands name and the (lean) state had forgotten, by transfer id, per aggregate kind.",
        "aggregate");
    public static readonly Counter SnapshotWrites = Metrics.CreateCounter("steller_snapshot_writes_total",
        "Snapshots written off the command path, by outcome: written, failed.", "aggregate", "outcome");
}
