using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;
using Steller.Application.Vendors;

namespace Steller.Infrastructure.Vendors;

/// <summary>
/// Writes vendor call observations to <c>ops.vendor_calls</c> and catalog syncs to <c>ops.vendor_catalog_syncs</c>
/// (read by <c>read.vendor_health</c>). Fire and forget: <see cref="Called"/> only puts the observation into a bounded
/// in-memory buffer; a background loop inserts batches (one statement per batch). When the buffer is full, or a batch
/// cannot be written, observations are dropped and counted (<see cref="Dropped"/>, metric
/// <c>steller_vendor_observations_dropped_total</c>): a vendor call never waits for, or fails because of, the database.
/// A batch is written <see cref="Linger"/> after its first observation (at once when 500 are waiting): one insert for what
/// a quarter second brings instead of one per call (1.9 per order with orders one at a time), at the price of losing up
/// to that much of this log, which is not the ledger, in a crash.
/// </summary>
public sealed class PostgresVendorCallObserver(NpgsqlDataSource dataSource, ILogger<PostgresVendorCallObserver> log, int capacity = 10_000,
    TimeSpan? linger = null)
    : IVendorCallObserver, IHostedService, IAsyncDisposable
{
    private const int BatchSize = 500;

    /// <summary>How long a batch waits for more observations before it is written.</summary>
    public static readonly TimeSpan Linger = TimeSpan.FromMilliseconds(250);
    private readonly TimeSpan lingerFor = linger ?? Linger;
    private static readonly Prometheus.Counter DroppedMetric = Prometheus.Metrics.CreateCounter(
        "steller_vendor_observations_dropped_total", "Vendor call observations dropped (buffer full or database unavailable).");

    private readonly Channel<object> buffer = Channel.CreateBounded<object>(new BoundedChannelOptions(capacity)
    {
        FullMode = BoundedChannelFullMode.Wait, // with TryWrite: false when full, so drops can be counted
        SingleReader = true,
    });
    private readonly CancellationTokenSource stopping = new();
    private readonly TaskCompletionSource stopRequested = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? loop;
    private long accepted, settled, dropped;

    /// <summary>Observations lost (buffer full or a failed write).</summary>
    public long Dropped => Interlocked.Read(ref dropped);

    public void Called(VendorCallObservation call)
    {
        VendorMetrics.Calls.WithLabels(call.Vendor, VendorMetrics.OutcomeOf(call)).Inc();
        Offer(call);
    }

    public void CatalogSynced(string vendor, int products, DateTimeOffset at) => Offer(new CatalogSync(vendor, products, at));

    private void Offer(object item)
    {
        if (buffer.Writer.TryWrite(item)) { Interlocked.Increment(ref accepted); return; }
        Interlocked.Increment(ref dropped);
        DroppedMetric.Inc();
    }

    public Task StartAsync(CancellationToken ct)
    {
        loop ??= Task.Run(() => Run(stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken ct)
    {
        stopRequested.TrySetResult();
        buffer.Writer.TryComplete();
        if (loop is null) return;
        // Drain what is buffered, but never hold up shutdown for long.
        var done = await Task.WhenAny(loop, Task.Delay(TimeSpan.FromSeconds(5), ct));
        if (done != loop) await stopping.CancelAsync();
    }

    /// <summary>Waits until everything offered so far is written or dropped (tests, shutdown).</summary>
    public async Task Flush(TimeSpan timeout)
    {
        var target = Interlocked.Read(ref accepted);
        var deadline = DateTime.UtcNow + timeout;
        while (Interlocked.Read(ref settled) < target && DateTime.UtcNow < deadline)
            await Task.Delay(10);
    }

    private async Task Run(CancellationToken ct)
    {
        var batch = new List<object>(BatchSize);
        try
        {
            while (await buffer.Reader.WaitToReadAsync(ct))
            {
                if (buffer.Reader.Count < BatchSize && !stopRequested.Task.IsCompleted)
                    await Task.WhenAny(Task.Delay(lingerFor, ct), stopRequested.Task); // stopping writes at once
                while (batch.Count < BatchSize && buffer.Reader.TryRead(out var item)) batch.Add(item);
                try
                {
                    await Write(batch, ct);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    Interlocked.Add(ref dropped, batch.Count);
                    DroppedMetric.Inc(batch.Count);
                    log.LogWarning("Dropped {Count} vendor call observation(s): {Error}", batch.Count, e.Message);
                }
                Interlocked.Add(ref settled, batch.Count);
                batch.Clear();
            }
        }
        catch (OperationCanceledException) { }
    }

    private async Task Write(List<object> batch, CancellationToken ct)
    {
        var calls = batch.OfType<VendorCallObservation>().ToList();
        var syncs = batch.OfType<CatalogSync>().ToList();
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        if (calls.Count > 0)
        {
            await using var cmd = new NpgsqlCommand("""
                insert into ops.vendor_calls (at, vendor, operation, status, latency_ms, was_429, was_error)
                select * from unnest($1::timestamptz[], $2::text[], $3::text[], $4::int[], $5::double precision[], $6::bool[], $7::bool[])
                """, conn);
            cmd.Parameters.Add(new NpgsqlParameter { Value = calls.Select(c => c.At.ToUniversalTime()).ToArray() });
            cmd.Parameters.Add(new NpgsqlParameter { Value = calls.Select(c => c.Vendor).ToArray() });
            cmd.Parameters.Add(new NpgsqlParameter { Value = calls.Select(c => c.Operation).ToArray() });
            cmd.Parameters.Add(new NpgsqlParameter { Value = calls.Select(c => c.Status).ToArray(), NpgsqlDbType = NpgsqlDbType.Array
                | NpgsqlDbType.Integer });
            cmd.Parameters.Add(new NpgsqlParameter { Value = calls.Select(c => c.LatencyMs).ToArray() });
            cmd.Parameters.Add(new NpgsqlParameter { Value = calls.Select(c => c.WasRateLimited).ToArray() });
            cmd.Parameters.Add(new NpgsqlParameter { Value = calls.Select(c => c.WasError).ToArray() });
            await cmd.ExecuteNonQueryAsync(ct);
        }
        if (syncs.Count > 0)
        {
            await using var cmd = new NpgsqlCommand("""
                insert into ops.vendor_catalog_syncs (at, vendor, products)
                select * from unnest($1::timestamptz[], $2::text[], $3::int[])
                """, conn);
            cmd.Parameters.Add(new NpgsqlParameter { Value = syncs.Select(s => s.At.ToUniversalTime()).ToArray() });
            cmd.Parameters.Add(new NpgsqlParameter { Value = syncs.Select(s => s.Vendor).ToArray() });
            cmd.Parameters.Add(new NpgsqlParameter { Value = syncs.Select(s => s.Products).ToArray() });
            await cmd.ExecuteNonQueryAsync(ct);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None);
        stopping.Dispose();
    }

    private sealed record CatalogSync(string Vendor, int Products, DateTimeOffset At);
}
