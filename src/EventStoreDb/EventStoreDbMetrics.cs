using Prometheus;

namespace Steller.Infrastructure.EventStoreDb;

internal static class EventStoreDbMetrics
{
    public static readonly Counter ForeignEventsSkipped = Metrics.CreateCounter("steller_foreign_events_skipped_total",
        "Events in EventStoreDB's $all that passed Steller's stream filter but were not written by Steller (no Steller metadata), skipped by its readers.");
}
