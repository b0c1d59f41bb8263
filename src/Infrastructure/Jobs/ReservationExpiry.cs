using Dapper;
using Steller.Application.Commands;
using Microsoft.Extensions.Logging;
using Npgsql;
using Quartz;
using Steller.Application.EventStore;
using Steller.Application.Inventory;
using Steller.Application.Time;
using Steller.Domain.Inventory;

namespace Steller.Infrastructure.Jobs;

/// <summary>
/// Releases stock reservations whose expiry has passed (reason "expired"). Candidates come from
/// read.stock_open_reservations; each release is a stock command, so the stock item decides: a reservation committed
/// in the meantime stays committed, one released twice stays released once.
/// </summary>
public sealed class ReservationExpiry(NpgsqlDataSource db, AggregateCommands<Stock, IStockCommand, IStockEvent> stock, IClock clock, ILogger<ReservationExpiry> logger)
{
    public const string Actor = "system:reservation-expiry";

    /// <summary>Releases every expired reservation the read model knows of; returns how many it released now.</summary>
    public async Task<int> ReleaseExpired(CancellationToken ct)
    {
        var released = 0;
        while (true)
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            var due = (await conn.QueryAsync<(string Stream, string ReservationId)>(new CommandDefinition(
                "select stream_id, reservation_id from read.stock_open_reservations where expires_at <= @now order by expires_at limit 500",
                new { now = clock.UtcNow.UtcDateTime }, cancellationToken: ct))).ToList();
            var changed = 0;
            foreach (var (stream, reservationId) in due)
            {
                if (!Stock.TryParseStreamName(stream, out var sku, out var location)) continue;
                var metadata = new EventMetadata($"expiry-{reservationId}", $"expiry-{reservationId}", Guid.NewGuid(), Actor, clock.UtcNow);
                var outcome = await stock.Execute(Stock.StreamName(sku, location), new ReleaseReservation(reservationId, "expired"), metadata, ct: ct);
                if (outcome.Succeeded && !outcome.WasRepeat) changed++;
            }
            released += changed;
            // Rows the projection has not caught up on yet would come back; stop when a pass changes nothing.
            if (due.Count < 500 || changed == 0) break;
        }
        if (released > 0) logger.LogInformation("Released {Count} expired stock reservation(s)", released);
        return released;
    }
}

[DisallowConcurrentExecution]
public sealed class ReservationExpiryJob(ReservationExpiry expiry) : IJob
{
    public Task Execute(IJobExecutionContext context) => ReadModelJobs.PassWhenReady(ct => expiry.ReleaseExpired(ct), context.CancellationToken);
}
