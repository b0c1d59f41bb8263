using Npgsql;

namespace Steller.Infrastructure.Vendors;

/// <summary>Where a vendor's rate budget lives when more than this process spends it.</summary>
public interface IVendorRateBudget
{
    /// <summary>
    /// Takes up to <paramref name="want"/> tokens at once. Answers how many it got and, when fewer than asked, how long
    /// until the next one is there or the vendor's pause ends.
    /// </summary>
    ValueTask<(int Granted, TimeSpan Wait)> TryTake(string vendor, double requestsPerSecond, int burst, int want, CancellationToken ct);

    /// <summary>Pauses the vendor for every node (a 429 with its Retry-After).</summary>
    ValueTask Pause(string vendor, TimeSpan duration, CancellationToken ct);
}

/// <summary>
/// Every node's budget for a vendor in one row of ops.vendor_rate_buckets (migration 0012): a continuous token bucket
/// refilled from the database server's clock, so the nodes need no common clock of their own. Each take is one short
/// statement (ops.take_vendor_tokens, migration 0025: lock the row, refill, take what the waiting callers need),
/// committed before the vendor calls it allows: no transaction is ever open across network I/O. Every node must be
/// configured with the same RequestsPerSecond/Burst.
/// </summary>
public sealed class PostgresVendorRateBudget(NpgsqlDataSource db) : IVendorRateBudget
{
    public async ValueTask<(int Granted, TimeSpan Wait)> TryTake(string vendor, double requestsPerSecond, int burst, int want, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("select granted, wait_ms from ops.take_vendor_tokens($1, $2, $3, $4)");
        cmd.Parameters.AddWithValue(vendor);
        cmd.Parameters.AddWithValue(requestsPerSecond);
        cmd.Parameters.AddWithValue(burst);
        cmd.Parameters.AddWithValue(want);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        var granted = reader.GetInt32(0);
        var waitMs = reader.GetDouble(1);
        return (granted, waitMs <= 0 ? TimeSpan.Zero : TimeSpan.FromMilliseconds(Math.Max(1, Math.Ceiling(waitMs))));
    }

    public async ValueTask Pause(string vendor, TimeSpan duration, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("select ops.pause_vendor($1, $2)");
        cmd.Parameters.AddWithValue(vendor);
        cmd.Parameters.AddWithValue(duration.TotalMilliseconds);
        await cmd.ExecuteNonQueryAsync(ct);
    }
}
