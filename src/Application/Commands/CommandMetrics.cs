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
}
