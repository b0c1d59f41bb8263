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

    public static readonly Counter GroupsRetriedAlone = Metrics.CreateCounter(
        "steller_eventstore_groups_retried_alone_total",
        "Append groups (group commit) that PostgreSQL refused as a whole (one append it could not store, a deadlock) and that "
        + "were committed again one append at a time.");

    public static readonly Counter LogAnnouncements = Metrics.CreateCounter(
        "steller_log_announcements_total",
        "Announcements of new events to other nodes (NOTIFY steller_events), by outcome: sent, or skipped_alone when no other "
        + "process listened on the database.",
        new CounterConfiguration { LabelNames = ["outcome"] });
}
