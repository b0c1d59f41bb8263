using System.Runtime.CompilerServices;
using Npgsql;
using Prometheus;

namespace Steller.Infrastructure.Postgres;

/// <summary>
/// A second connection pool to Steller's PostgreSQL whose sessions declare that they never append to the event log: the
/// read models' batch transactions and the chain's seals. The mark is the session setting <c>steller.never_appends = on</c>,
/// given at connection start (migration 0021 refuses an insert into es.events from such a session); the application name
/// stays the node's own, so operators still see which node a session belongs to. Such a transaction that runs long
/// announces its transaction id (<see cref="AnnounceIfLong"/>), and readers of the log stop waiting for it
/// (<see cref="PostgresEventStore.Horizon"/>): a read-model batch no longer delays every follower of the log. Work that
/// appends, or may append, stays on the process's main data source.
/// </summary>
public sealed class NoAppendDataSource(NpgsqlDataSource dataSource) : IAsyncDisposable
{
    /// <summary>The startup option that marks a session (a custom PostgreSQL setting, read by the trigger).</summary>
    public const string MarkOption = "-c steller.never_appends=on";

    /// <summary>
    /// How long a transaction runs before it is announced: most read-model batches end sooner and cost nothing more; a
    /// longer one costs one short statement on another connection.
    /// </summary>
    public static readonly TimeSpan AnnounceAfter = TimeSpan.FromMilliseconds(10);

    private static readonly Counter Announced = Metrics.CreateCounter("steller_never_appending_announced_total",
        "Long write transactions of never-appending sessions (read-model batches) announced, so that readers of the log stop waiting for them.");

    /// <summary>Announcements made by this process (tests).</summary>
    public static double AnnouncedCount => Announced.Value;

    private static readonly ConditionalWeakTable<NpgsqlDataSource, object> MarkedSources = new();

    public NpgsqlDataSource DataSource { get; } = dataSource;

    /// <summary>The same connection string with the mark added to its startup options (once).</summary>
    public static string Mark(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (!HasMark(builder))
            builder.Options = string.IsNullOrWhiteSpace(builder.Options) ? MarkOption : $"{builder.Options} {MarkOption}";
        return builder.ConnectionString;
    }

    private static bool HasMark(NpgsqlConnectionStringBuilder builder) =>
        builder.Options?.Contains(MarkOption, StringComparison.Ordinal) == true;

    /// <summary>Whether <paramref name="source"/>'s sessions are marked as never appending (the trigger holds them to it).</summary>
    public static bool IsMarked(NpgsqlDataSource source) =>
        MarkedSources.GetValue(source, s => HasMark(new NpgsqlConnectionStringBuilder(s.ConnectionString))) is true;

    /// <summary>
    /// Announces <paramref name="xid"/>, the id of a write transaction open on a connection of <paramref name="source"/>,
    /// if it is still running after <see cref="AnnounceAfter"/> (es.never_appending): from then on readers of the log no
    /// longer wait for it. Dispose when the transaction has ended. Does nothing unless <paramref name="source"/> is marked:
    /// only a session the trigger refuses appends may be left out of the horizon. Best effort: when the announcement fails,
    /// readers wait for the transaction as they always did.
    /// </summary>
    public static IDisposable? AnnounceIfLong(NpgsqlDataSource source, ulong xid) =>
        IsMarked(source) ? new Announcement(source, xid) : null;

    private sealed class Announcement : IDisposable
    {
        private readonly CancellationTokenSource ended = new();

        public Announcement(NpgsqlDataSource source, ulong xid) => _ = Announce(source, xid, ended.Token);

        private static async Task Announce(NpgsqlDataSource source, ulong xid, CancellationToken ended)
        {
            try
            {
                await Task.Delay(AnnounceAfter, ended);
                // The ids of transactions that have ended since (older than every running one) are cleared on the way.
                await using var cmd = source.CreateCommand("""
                    with ended as (delete from es.never_appending where xid < pg_snapshot_xmin(pg_current_snapshot()))
                    insert into es.never_appending (xid) values ($1::text::xid8) on conflict do nothing
                    """);
                cmd.Parameters.AddWithValue(xid.ToString(System.Globalization.CultureInfo.InvariantCulture));
                await cmd.ExecuteNonQueryAsync(CancellationToken.None); // not cancelled: a cancel is a connection of its own
                Announced.Inc();
            }
            catch (OperationCanceledException) { } // ended first: nothing to announce
            catch (Exception) { } // readers wait for it, as without the announcement
        }

        public void Dispose()
        {
            ended.Cancel();
            ended.Dispose();
        }
    }

    public ValueTask DisposeAsync() => DataSource.DisposeAsync();
}
