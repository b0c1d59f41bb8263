using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Prometheus;
using Steller.Application.EventStore;
using Steller.Infrastructure.Configuration;
using Steller.Projections.Engine;

namespace Steller.Projections.Chain;

public static class ChainMetrics
{
    public static readonly Gauge LagEvents = Metrics.CreateGauge("steller_chain_lag_events",
        "Events of the log not yet sealed into the hash chain (es.chain); 0 when the sealer is at the head.");
    public static readonly Gauge LagSeconds = Metrics.CreateGauge("steller_chain_lag_seconds",
        "Age of the newest event the chain sealer has sealed while more are waiting; 0 when at the head.");
    public static readonly Gauge HeadSequence = Metrics.CreateGauge("steller_chain_head_sequence",
        "Number of events sealed into the hash chain (the head's sequence).");
    public static readonly Counter Sealed = Metrics.CreateCounter("steller_chain_sealed_events_total",
        "Events this process has sealed into the hash chain.");
}

/// <summary>
/// Seals the hash chain (<see cref="ChainHasher"/>) over the global log: follows the log like a projection (the process's
/// one <see cref="LogTail"/> wakes it), one active sealer per database across nodes (advisory lock), and writes es.chain in
/// batches after the events have committed, so appends never wait for it. Its lag is in /metrics
/// (<see cref="ChainMetrics"/>) and in GET /admin/ledger/head.
/// </summary>
public sealed class ChainSealer(IChainLog log, ChainStore chain, LogTail tail, IEventStore store, ProjectionSettings settings,
    ILogger<ChainSealer> logger) : BackgroundService
{
    public const int BatchSize = 5_000;

    /// <summary>The least time between two seals at the head of the log: the chain's lag grows by at most this much.</summary>
    public static readonly TimeSpan SealPause = TimeSpan.FromMilliseconds(200);

    /// <summary>Seals what is visible now, at most <paramref name="maxBatches"/> batches; returns how many events were sealed.
    /// The caller must hold the sealer's lock (<see cref="TryLead"/>) or be alone (tests, the CLI with the API stopped).</summary>
    public async Task<long> SealAvailable(CancellationToken ct, int maxBatches = int.MaxValue)
    {
        var head = await chain.Head(ct);
        long total = 0;
        for (var i = 0; i < maxBatches; i++)
        {
            var (sealedNow, newHead) = await SealBatch(head, ct);
            total += sealedNow;
            head = newHead;
            if (sealedNow < BatchSize) break;
        }
        return total;
    }

    /// <summary>The advisory lock that makes one sealer active across nodes; null when another holds it.</summary>
    public Task<AdvisoryLock?> TryLead(CancellationToken ct) => AdvisoryLock.TryAcquire(chain.DataSource, "chain", "sealer", ct);

    private readonly ChainHasher hasher = new();

    private async Task<(int Sealed, ChainLink? Head)> SealBatch(ChainLink? head, CancellationToken ct)
    {
        var page = await log.Read(head?.Position ?? LogPosition.Start, BatchSize, ct);
        if (page.Count == 0) return (0, head);
        var links = new List<ChainLink>(page.Count);
        var previous = head?.Hash ?? ChainHasher.Genesis;
        var sequence = head?.Sequence ?? 0;
        foreach (var entry in page)
        {
            var hash = new byte[ChainHasher.HashSize];
            hasher.Next(previous, entry, hash);
            links.Add(new ChainLink(++sequence, entry.Position, hash, DateTimeOffset.UtcNow));
            previous = hash;
        }
        await chain.Append(links, ct);
        ChainMetrics.Sealed.Inc(links.Count);
        ChainMetrics.HeadSequence.Set(sequence);
        var behind = page.Count == BatchSize;
        ChainMetrics.LagSeconds.Set(behind ? Math.Max(0, (DateTimeOffset.UtcNow - page[^1].RecordedAt).TotalSeconds) : 0);
        if (!behind) ChainMetrics.LagEvents.Set(0);
        else if (store is IEventLogStatistics stats && DateTime.UtcNow - lagCountedAt > TimeSpan.FromSeconds(5))
        {
            lagCountedAt = DateTime.UtcNow;
            ChainMetrics.LagEvents.Set(await stats.CountAfter(links[^1].Position, ct));
        }
        return (links.Count, links[^1]);
    }

    private DateTime lagCountedAt = DateTime.MinValue;

    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        if (!settings.Enabled) return; // a node that runs no followers seals nothing either
        var failures = 0;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await using var leadership = await TryLead(ct);
                if (leadership is null)
                {
                    await Task.Delay(AdvisoryLock.UntilNextAttempt(ProjectionWorker.StandbyInterval), ct); // another node seals; stay ready
                    continue;
                }
                var head = await chain.Head(ct);
                ChainMetrics.HeadSequence.Set(head?.Sequence ?? 0);
                while (!ct.IsCancellationRequested && leadership.IsHeld)
                {
                    var (sealedNow, newHead) = await SealBatch(head, ct);
                    head = newHead;
                    failures = 0;
                    if (sealedNow == BatchSize) continue;
                    // At the head: pause, then wait for the log to move past it (the shared reader wakes on commits), at most
                    // a few seconds. The pause makes a seal cover every commit of its span: the chain is an audit trail on
                    // no client's path, and sealing after each commit cost a log read and a transaction per append (issue 11).
                    if (sealedNow > 0) await Task.Delay(SealPause, ct);
                    await tail.Next(head?.Position ?? LogPosition.Start, 1, ct, TimeSpan.FromSeconds(5));
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { return; }
            catch (Exception e)
            {
                failures++;
                var delay = TimeSpan.FromMilliseconds(Math.Min(settings.RetryDelayMilliseconds * Math.Pow(2, Math.Min(failures - 1, 16)), 30_000));
                logger.LogError(e, "The chain sealer failed (attempt {Attempt}); retrying from the chain's head in {Delay} ms",
                    failures, delay.TotalMilliseconds);
                try { await Task.Delay(delay, ct); }
                catch (OperationCanceledException) { return; }
            }
        }
    }
}
