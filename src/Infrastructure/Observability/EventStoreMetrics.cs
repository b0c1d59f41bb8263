using Prometheus;

namespace Steller.Infrastructure;

/// <summary>Prometheus instruments of the event store adapters (served by the API at /metrics).</summary>
public static class EventStoreMetrics
{
    public static readonly Histogram AppendSeconds = Metrics.CreateHistogram(
        "steller_eventstore_append_seconds", "Latency of one event store append, by backend.",
        new HistogramConfiguration
        {
            LabelNames = ["backend"],
            Buckets = Histogram.ExponentialBuckets(0.0005, 2, 14),
        });
}
