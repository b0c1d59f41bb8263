using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Prometheus;
using Steller.Infrastructure.Configuration;

namespace Steller.Infrastructure.Observability;

/// <summary>
/// Watches the age of the oldest open write transaction on Steller's database (any session, Steller's or anyone else's,
/// that holds a transaction id: <c>pg_stat_activity.backend_xid is not null</c>), except those announced as never
/// appending (<see cref="Postgres.NoAppendDataSource"/>). The PostgreSQL log shows readers only what is older than the
/// oldest running transaction that may append, so one long write transaction holds back every projection, process manager
/// and log follower for as long as it stays open. Exported as
/// <c>steller_oldest_write_transaction_seconds</c>; a warning is logged (once per transaction, then every minute while it
/// lasts) when it passes <see cref="DatabaseSettings.LongWriteTransactionAlertSeconds"/>.
/// Sessions of other roles are visible only when Steller's role may read them (superuser, or a member of
/// <c>pg_read_all_stats</c> / <c>pg_monitor</c>); otherwise only Steller's own sessions are counted.
/// </summary>
public sealed class WriteTransactionMonitor(NpgsqlDataSource db, StellerSettings settings, ILogger<WriteTransactionMonitor> log)
    : BackgroundService
{
    public static readonly Gauge OldestWriteTransactionSeconds = Metrics.CreateGauge(
        "steller_oldest_write_transaction_seconds",
        "Age of the oldest open write transaction on Steller's database (it holds back the log for every reader).");


    private DateTime lastAlert = DateTime.MinValue;
    private int? lastAlertPid;

    /// <summary>The oldest open write transaction: its age in seconds, process id, state and query (null when none is open).</summary>
    public sealed record OldestWrite(double Seconds, int Pid, string? State, string? Application, string? Query);

    public async Task<OldestWrite?> Read(CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            select extract(epoch from clock_timestamp() - xact_start)::float8, pid, state, application_name, left(query, 120)
              from pg_stat_activity
             where backend_xid is not null and datname = current_database() and xact_start is not null
               and not exists (select 1 from es.never_appending n where (n.xid::text::bigint & 4294967295)::text = backend_xid::text)
             order by xact_start
             limit 1
            """);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct)) return null;
        return new OldestWrite(reader.GetDouble(0), reader.GetInt32(1), reader.IsDBNull(2) ? null : reader.GetString(2),
            reader.IsDBNull(3) ? null : reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetString(4));
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var threshold = settings.Database.LongWriteTransactionAlertSeconds;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var oldest = await Read(stoppingToken);
                OldestWriteTransactionSeconds.Set(oldest?.Seconds ?? 0);
                if (oldest is not null && oldest.Seconds >= threshold
                    && (oldest.Pid != lastAlertPid || DateTime.UtcNow - lastAlert >= TimeSpan.FromMinutes(1)))
                {
                    lastAlert = DateTime.UtcNow;
                    lastAlertPid = oldest.Pid;
                    log.LogWarning(
                        "ALERT long write transaction: pid {Pid} ({Application}, {State}) has held a write transaction open for {Seconds:0.0} s "
                        + "(threshold {Threshold} s); every log reader waits for it. Query: {Query}",
                        oldest.Pid, oldest.Application, oldest.State, oldest.Seconds, threshold, oldest.Query);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { return; }
            catch (Exception e)
            {
                log.LogDebug("Could not read pg_stat_activity: {Error}", e.Message);
            }
            try { await Task.Delay(TimeSpan.FromSeconds(settings.Database.WriteTransactionCheckSeconds), stoppingToken); }
            catch (OperationCanceledException) { return; }
        }
    }
}
