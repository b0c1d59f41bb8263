namespace Steller.VendorSimulator;

/// <summary>One request as the simulator saw it. Never bodies, never card codes.</summary>
public sealed record RecordedRequest(
    long Seq,
    string Vendor,
    string Operation,
    string Method,
    string Path,
    string? RequestId,
    string? ProductId,
    int Status,
    DateTimeOffset At,
    double DurationMs,
    bool RateLimited,
    string? Script);

public sealed class Recorder
{
    private readonly List<RecordedRequest> requests = [];
    private readonly Lock gate = new();
    private long seq;

    public long Next() => Interlocked.Increment(ref seq);

    public void Add(RecordedRequest r) { lock (gate) requests.Add(r); }

    public IReadOnlyList<RecordedRequest> All(string? vendor, string? operation)
    {
        lock (gate)
            return requests
                .Where(r => vendor is null || r.Vendor == vendor)
                .Where(r => operation is null || r.Operation == operation)
                .OrderBy(r => r.Seq).ToList();
    }

    public void Reset() { lock (gate) requests.Clear(); }
}
