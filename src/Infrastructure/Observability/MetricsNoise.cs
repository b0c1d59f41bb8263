using Prometheus;

namespace Steller.Infrastructure.Observability;

/// <summary>
/// /metrics carries Steller's own families, ASP.NET Core's and the runtime's, but not the dozens of QUIC (msquic)
/// diagnostics families .NET publishes although Steller speaks no HTTP/3. Call once, before the first metric is read.
/// </summary>
public static class MetricsNoise
{
    public static void Drop()
    {
        Metrics.ConfigureMeterAdapter(o => o.InstrumentFilterPredicate = i => !IsQuic(i.Meter.Name) && !IsQuic(i.Name));
        Metrics.ConfigureEventCounterAdapter(o => o.EventSourceFilterPredicate = name => !IsQuic(name));
    }

    private static bool IsQuic(string name) => name.Contains("quic", StringComparison.OrdinalIgnoreCase);
}
