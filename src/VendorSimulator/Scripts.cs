namespace Steller.VendorSimulator;

/// <summary>
/// A scripted behaviour for the next <see cref="Times"/> matching calls. Transport actions act before the handler:
/// <c>status</c> (answer <see cref="Status"/>, with <see cref="RetryAfterSeconds"/> on 429), <c>hang</c> (wait
/// <see cref="DelayMs"/> or until the client gives up, then 504), <c>hang-after</c> (process the request — the order is
/// created — then hang like <c>hang</c>: the answer is lost), <c>latency</c> (wait <see cref="DelayMs"/>, then answer
/// normally). Order actions act when an order/transfer is created: <c>reject</c> (4xx with <see cref="Reason"/>, nothing
/// created), <c>fail</c> (created, ends Failed), <c>partial</c> (created, ends PartialFailed with <see cref="Delivered"/> units),
/// <c>slow</c> (Processing for <see cref="Polls"/> status reads and/or <see cref="DelayMs"/>, then done).
/// </summary>
public sealed record Script
{
    public string Vendor { get; init; } = "*";
    /// <summary>catalog, checkout, order, accounts | providers, products, transfer, transfers, balance | * (any).</summary>
    public string Operation { get; init; } = "*";
    public string Action { get; init; } = "status";
    public int Times { get; set; } = 1;
    public int Status { get; init; } = 503;
    public int? RetryAfterSeconds { get; init; }
    public int DelayMs { get; init; }
    public int Delivered { get; init; }
    public int Polls { get; init; }
    public string? Reason { get; init; }
    /// <summary>Only calls for this product id / SkuCode.</summary>
    public string? ProductId { get; init; }
    /// <summary>Only calls for this RequestId / DistributorRef.</summary>
    public string? RequestId { get; init; }

    public static readonly string[] TransportActions = ["status", "hang", "hang-after", "latency"];
    public static readonly string[] OrderActions = ["reject", "fail", "partial", "slow"];
}

/// <summary>Scripts in the order they were added; the first one matching a call is consumed.</summary>
public sealed class ScriptBook
{
    private readonly List<Script> scripts = [];
    private readonly Lock gate = new();

    public void Add(Script s)
    {
        if (!Script.TransportActions.Contains(s.Action) && !Script.OrderActions.Contains(s.Action))
            throw new ArgumentException($"unknown action '{s.Action}'; one of "
                + $"{string.Join(", ", Script.TransportActions.Concat(Script.OrderActions))}");
        if (s.Times < 1) throw new ArgumentException("times must be at least 1");
        lock (gate) scripts.Add(s with { });
    }

    public Script? Take(string vendor, string operation, string? productId, string? requestId, string[] actions)
    {
        lock (gate)
        {
            var s = scripts.FirstOrDefault(s =>
                (s.Vendor == "*" || s.Vendor == vendor)
                && (s.Operation == "*" || s.Operation == operation)
                && actions.Contains(s.Action)
                && (s.ProductId is null || s.ProductId == productId)
                && (s.RequestId is null || s.RequestId == requestId));
            if (s is null) return null;
            if (--s.Times == 0) scripts.Remove(s);
            return s;
        }
    }

    public IReadOnlyList<Script> Pending() { lock (gate) return scripts.Select(s => s with { }).ToList(); }
    public void Reset() { lock (gate) scripts.Clear(); }
}
