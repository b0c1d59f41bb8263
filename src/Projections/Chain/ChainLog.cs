using System.Text;
using Npgsql;
using NpgsqlTypes;
using Steller.Application.EventStore;

namespace Steller.Projections.Chain;

/// <summary>
/// The global log as the hash chain reads it: events strictly after a position, in log order, never skipping one (the same
/// visibility rule as <see cref="IEventStore.ReadAll"/>), with their stored bytes.
/// </summary>
public interface IChainLog
{
    Task<IReadOnlyList<ChainEntry>> Read(LogPosition after, int max, CancellationToken ct);
}

/// <summary>Any backend (EventStoreDB): the store's own <see cref="IEventStore.ReadAll"/>; $all positions.</summary>
public sealed class EventStoreChainLog(IEventStore store) : IChainLog
{
    public async Task<IReadOnlyList<ChainEntry>> Read(LogPosition after, int max, CancellationToken ct) =>
        (await store.ReadAll(after, max, ct)).Select(ChainEntry.Of).ToList();
}

/// <summary>
/// The PostgreSQL event store read straight from es.events: data and metadata exactly as stored (json keeps the text as
/// written) and the recorded_at column, so an edit of any of them shows. Same order and visibility as
/// <c>PostgresEventStore.ReadAll</c>: (transaction id, position), only transactions older than every running one.
/// </summary>
public sealed class PostgresChainLog(NpgsqlDataSource dataSource) : IChainLog
{
    public async Task<IReadOnlyList<ChainEntry>> Read(LogPosition after, int max, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        await using var cmd = dataSource.CreateCommand("""
            select transaction_id::text, position, stream_id, revision, event_id, event_type, data::text, metadata::text, recorded_at
            from es.events
            where (transaction_id, position) > ($1::xid8, $2)
              and transaction_id < pg_snapshot_xmin(pg_current_snapshot())
            order by events.transaction_id, events.position
            limit $3
            """);
        cmd.Parameters.Add(new NpgsqlParameter { Value = after.Commit.ToString(), NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (long)after.Prepare });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (long)max });
        var entries = new List<ChainEntry>(Math.Min(max, 10_000));
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
            entries.Add(new ChainEntry(
                new LogPosition(ulong.Parse(r.GetString(0)), (ulong)r.GetInt64(1)),
                r.GetString(2),
                r.GetInt64(3),
                r.GetGuid(4),
                r.GetString(5),
                Encoding.UTF8.GetBytes(r.GetString(6)),
                Encoding.UTF8.GetBytes(r.GetString(7)),
                ChainEntry.Micros(new DateTimeOffset(r.GetFieldValue<DateTime>(8), TimeSpan.Zero))));
        return entries;
    }
}
