using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Steller.Infrastructure.Configuration;
using Steller.Infrastructure.Jobs;
using Steller.Projections.Engine;

namespace Steller.Projections.Expiry;

/// <summary>
/// Runs the hold expiry and the reservation expiry on one node of the cluster at a time (<see cref="LeaderLoop"/>), not as
/// clustered Quartz jobs: their Quartz firings every 10 s were most of the ~280 statements a minute Quartz cost an idle
/// node (issue 11). A pass that overlaps another (a node that lost its lock finishing one) does no harm: each release is
/// a command to the aggregate, which releases an item once.
/// </summary>
public sealed class ExpiryLoops(Infrastructure.Postgres.NoAppendDataSource locks, HoldExpiry holds, ReservationExpiry reservations, JobSettings settings,
    ILogger<ExpiryLoops> logger) : BackgroundService
{
    public const string HoldsName = "hold-expiry", ReservationsName = "reservation-expiry";

    // The loops' locks are on the pool the followers' locks are on: one leadership session per process holds them all.
    public LeaderLoop Holds { get; } = new(locks.DataSource, HoldsName, TimeSpan.FromSeconds(settings.HoldExpirySeconds),
        ct => ReadModelJobs.PassWhenReady(holds.ReleaseExpired, ct), logger);

    public LeaderLoop Reservations { get; } = new(locks.DataSource, ReservationsName, TimeSpan.FromSeconds(settings.ReservationExpirySeconds),
        ct => ReadModelJobs.PassWhenReady(reservations.ReleaseExpired, ct), logger);

    protected override Task ExecuteAsync(CancellationToken ct) => Task.WhenAll(Holds.Run(ct), Reservations.Run(ct));
}
