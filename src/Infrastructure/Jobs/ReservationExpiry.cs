using Microsoft.Extensions.Logging;
using Npgsql;
using Quartz;
using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Application.Inventory;
using Steller.Application.Time;
using Steller.Domain.Inventory;

namespace Steller.Infrastructure.Jobs;

/// <summary>
/// Releases stock reservations whose expiry has passed, reason "expired" (candidates from read.stock_open_reservations;
/// see <see cref="OpenItemExpiry"/>).
/// </summary>
public sealed class ReservationExpiry(NpgsqlDataSource db, AggregateCommands<Stock, IStockCommand, IStockEvent> stock, IClock clock, ILogger<ReservationExpiry> logger)
    : OpenItemExpiry(db, clock, logger, table: "stock_open_reservations", idColumn: "reservation_id", Actor, items: "stock reservation(s)")
{
    public const string Actor = "system:reservation-expiry";

    protected override async Task<bool> Release(string streamId, string reservationId, EventMetadata metadata, CancellationToken ct)
    {
        if (!Stock.TryParseStreamName(streamId, out var sku, out var location)) return false;
        var outcome = await stock.Execute(Stock.StreamName(sku, location), new ReleaseReservation(reservationId, "expired"), metadata, ct: ct);
        return outcome.Succeeded && !outcome.WasRepeat;
    }
}

[DisallowConcurrentExecution]
public sealed class ReservationExpiryJob(ReservationExpiry expiry) : IJob
{
    public Task Execute(IJobExecutionContext context) => ReadModelJobs.PassWhenReady(expiry.ReleaseExpired, context.CancellationToken);
}
