using Steller.Infrastructure.Postgres;
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
    public NpgsqlDataSource DataSource => dataSource;

    public async Task<IReadOnlyList<ChainEntry>> Read(LogPosition after, int max, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        await using var cmd = dataSource.CreateCommand($"""
            select transaction_id::text::bigint, position, stream_id, revision, event_id, event_type,
                   convert_to(data::text, 'UTF8'), convert_to(metadata::text, 'UTF8'), recorded_at
            from es.events
            {PostgresEventStore.GapSafeAfter}
            """);
        PostgresEventStore.AddGapSafeParameters(cmd, after, max);
        var entries = new List<ChainEntry>(Math.Min(max, 10_000));
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
            entries.Add(new ChainEntry(
                new LogPosition((ulong)r.GetInt64(0), (ulong)r.GetInt64(1)),
                r.GetString(2),
                r.GetInt64(3),
                r.GetGuid(4),
                r.GetString(5),
                r.GetFieldValue<byte[]>(6), // the stored text's bytes, sent as bytes: no detour through UTF-16
                r.GetFieldValue<byte[]>(7),
                ChainEntry.Micros(new DateTimeOffset(r.GetFieldValue<DateTime>(8), TimeSpan.Zero))));
        return entries;
    }
}

/// <summary>
/// Checks the sealed links of one stretch of the chain inside PostgreSQL (no event leaves the database): every link n in
/// (<paramref name="after"/>, <paramref name="upTo"/>] must be SHA-256(link n-1 || canonical bytes of its event), built in SQL exactly as
/// <see cref="ChainHasher"/> builds them, and the log in that stretch must hold exactly the sealed events. Since link 0 is
/// the genesis (or the trusted link verification starts after), link n-1 equal to hash(n-1) by induction makes every checked
/// link equal to the chain recomputed from the log. Answers the first break in log order, or null.
/// </summary>
public sealed record DatabaseChainBreak(LogPosition Position, long? Sequence, string Kind, string? Type, string? StreamId, long? Revision);

public static class PostgresChainCheck
{
    /// <summary>The canonical bytes of an es.events row (alias e), as <see cref="ChainHasher"/> documents them.</summary>
    public const string CanonicalSql = """
        int4send(octet_length(e.event_type)) || convert_to(e.event_type, 'UTF8')
        || int4send(octet_length(e.stream_id)) || convert_to(e.stream_id, 'UTF8')
        || int8send(e.revision) || uuid_send(e.event_id)
        || int4send(octet_length(e.data::text)) || convert_to(e.data::text, 'UTF8')
        || int4send(octet_length(e.metadata::text)) || convert_to(e.metadata::text, 'UTF8')
        || int8send((extract(epoch from e.recorded_at) * 1000000)::bigint)
        """;

    public static async Task<DatabaseChainBreak?> FirstBreak(NpgsqlDataSource dataSource, long afterSequence, LogPosition afterPosition,
        byte[] afterHash, ChainLink upTo, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct); // read-only: takes no transaction id, holds no reader back
        await using (var settings = new NpgsqlCommand("set local work_mem = '256MB'; set local jit = off", conn, tx))
            await settings.ExecuteNonQueryAsync(ct); // the stretch's links hash in memory; JIT costs more than it saves here
        await using var cmd = new NpgsqlCommand($"""
            with c as (
                select sequence, commit_position, prepare_position, hash,
                       coalesce(lag(hash) over w, $3::bytea) as prev, coalesce(lag(sequence) over w, $1) as prev_sequence
                from es.chain where sequence > $1 and sequence <= $2
                window w as (order by sequence)
            ), e as (
                select e.transaction_id::text::bigint as commit_position, e.position as prepare_position, e.event_type, e.stream_id,
                       e.revision, {CanonicalSql} as bytes
                from es.events e
                where (e.transaction_id, e.position) > ($4::text::xid8, $5) and (e.transaction_id, e.position) <= ($6::text::xid8, $7)
            )
            select coalesce(c.commit_position, e.commit_position), coalesce(c.prepare_position, e.prepare_position), c.sequence,
                   case when c.sequence is null then 'inserted' when e.commit_position is null then 'missing'
                        when c.sequence <> c.prev_sequence + 1 then 'chain_gap' else 'changed' end,
                   e.event_type, e.stream_id, e.revision
            from c full join e on e.commit_position = c.commit_position and e.prepare_position = c.prepare_position
            where c.sequence is null or e.commit_position is null or c.sequence <> c.prev_sequence + 1 or sha256(c.prev || e.bytes) <> c.hash
            order by 1, 2
            limit 1
            """, conn, tx);
        cmd.CommandTimeout = 0; // a stretch of the log may take a while on a busy server; the caller's token stops it
        cmd.Parameters.Add(new NpgsqlParameter { Value = afterSequence });
        cmd.Parameters.Add(new NpgsqlParameter { Value = upTo.Sequence });
        cmd.Parameters.Add(new NpgsqlParameter { Value = afterHash, NpgsqlDbType = NpgsqlDbType.Bytea });
        cmd.Parameters.Add(new NpgsqlParameter { Value = afterPosition.Commit.ToString(), NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (long)afterPosition.Prepare });
        cmd.Parameters.Add(new NpgsqlParameter { Value = upTo.Position.Commit.ToString(), NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (long)upTo.Position.Prepare });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        if (!await r.ReadAsync(ct)) return null;
        return new DatabaseChainBreak(new LogPosition((ulong)r.GetInt64(0), (ulong)r.GetInt64(1)), r.IsDBNull(2) ? null : r.GetInt64(2),
            r.GetString(3), r.IsDBNull(4) ? null : r.GetString(4), r.IsDBNull(5) ? null : r.GetString(5), r.IsDBNull(6) ? null : r.GetInt64(6));
    }

    /// <summary>Events after <paramref name="after"/> visible in the log (the unsealed tail, when after is the head).</summary>
    public static Task<long> CountAfter(NpgsqlDataSource dataSource, LogPosition after, CancellationToken ct) =>
        PostgresEventStore.CountAfter(dataSource, after, ct);
}
