using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using Npgsql;
using NpgsqlTypes;
using Steller.Application.EventStore;

namespace Steller.Infrastructure.Postgres;

/// <summary>
/// The embedded event store on PostgreSQL (schema "es", migration 0001).
/// The global log is ordered by (transaction id, position) and a reader only returns rows whose
/// transaction is older than the oldest still running (pg_snapshot_xmin), so an identity value
/// taken early but committed late can never be skipped. No timers, no global lock.
/// </summary>
public sealed class PostgresEventStore(NpgsqlDataSource dataSource, LogNotifications notifications, PostgresEventStoreOptions? options = null)
    : IEventStore, IEventLogStatistics
{
    private readonly PostgresEventStoreOptions options = options ?? new PostgresEventStoreOptions();

    private const string Columns = "stream_id, revision, transaction_id::text, position, event_id, event_type, data::text, metadata::text";

    public async Task<AppendResult> Append(string streamId, ExpectedRevision expected, IReadOnlyList<EventData> events, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        try
        {
            return await AppendWithin(conn, null, streamId, expected, events, ct);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            // Two writers raced to create one stream with the same event id; asking again sees the winner.
            return await AppendWithin(conn, null, streamId, expected, events, ct);
        }
    }

    /// <summary>
    /// Appends on the caller's connection, inside the caller's transaction when one is given: the events become
    /// visible in the log only when that transaction commits (and never, if it rolls back).
    /// </summary>
    public async Task<AppendResult> AppendWithin(NpgsqlConnection conn, NpgsqlTransaction? tx, string streamId, ExpectedRevision expected,
        IReadOnlyList<EventData> events, CancellationToken ct = default)
    {
        AppendRules.Check(streamId, events);
        var started = Stopwatch.GetTimestamp();
        var n = events.Count;
        var ids = new Guid[n];
        var types = new string[n];
        var data = new string[n];
        var metadata = new string[n];
        var recordedAt = new DateTime[n];
        for (var i = 0; i < n; i++)
        {
            var e = events[i];
            ids[i] = e.EventId;
            types[i] = e.Type;
            data[i] = Encoding.UTF8.GetString(e.Data.Span);
            metadata[i] = Encoding.UTF8.GetString(EventMetadataJson.Serialize(e.Metadata));
            recordedAt[i] = e.Metadata.RecordedAt.UtcDateTime;
        }

        await using var cmd = new NpgsqlCommand("select outcome, revision, transaction_id::text, log_position from es.append($1, $2, $3, $4, $5, $6, $7)", conn, tx);
        cmd.Parameters.Add(new NpgsqlParameter { Value = streamId, NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter { Value = expected.Value, NpgsqlDbType = NpgsqlDbType.Bigint });
        cmd.Parameters.Add(new NpgsqlParameter { Value = ids, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid });
        cmd.Parameters.Add(new NpgsqlParameter { Value = types, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter { Value = data, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Json });
        cmd.Parameters.Add(new NpgsqlParameter { Value = metadata, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Json });
        cmd.Parameters.Add(new NpgsqlParameter { Value = recordedAt, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });

        short outcome;
        long revision;
        LogPosition position;
        try
        {
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            if (!await reader.ReadAsync(ct)) throw new InvalidOperationException("es.append returned no row.");
            outcome = reader.GetInt16(0);
            revision = reader.GetInt64(1);
            position = reader.IsDBNull(2) ? LogPosition.Start : new LogPosition(ulong.Parse(reader.GetString(2)), (ulong)reader.GetInt64(3));
        }
        finally
        {
            EventStoreMetrics.AppendSeconds.WithLabels("postgres").Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        }

        if (outcome == 2)
            throw new WrongExpectedRevisionException(streamId, expected, revision >= 0 ? new StreamRevision(revision) : null);
        // An empty append to a missing stream is accepted and creates nothing: next expected stays "no stream" (-1).
        return new AppendResult(new StreamRevision(revision), position);
    }

    public async Task<StreamSlice> ReadStream(string streamId, ReadDirection direction = ReadDirection.Forwards, StreamRevision? from = null,
        int maxCount = int.MaxValue, CancellationToken ct = default)
    {
        AppendRules.CheckStreamId(streamId);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxCount);
        var forwards = direction == ReadDirection.Forwards;
        var start = from?.Value ?? (forwards ? 0 : long.MaxValue);

        await using var batch = dataSource.CreateBatch();
        batch.BatchCommands.Add(new NpgsqlBatchCommand("select revision from es.streams where stream_id = $1 and revision >= 0")
        {
            Parameters = { new NpgsqlParameter { Value = streamId } },
        });
        batch.BatchCommands.Add(new NpgsqlBatchCommand(
            $"select {Columns} from es.events where stream_id = $1 and revision {(forwards ? ">=" : "<=")} $2 " +
            $"order by revision {(forwards ? "asc" : "desc")} limit $3")
        {
            Parameters = { new NpgsqlParameter { Value = streamId }, new NpgsqlParameter { Value = start }, new NpgsqlParameter { Value = (long)maxCount } },
        });

        await using var reader = await batch.ExecuteReaderAsync(ct);
        StreamRevision? last = await reader.ReadAsync(ct) ? new StreamRevision(reader.GetInt64(0)) : null;
        await reader.NextResultAsync(ct);
        var events = new List<RecordedEvent>();
        while (await reader.ReadAsync(ct)) events.Add(ReadEvent(reader));
        return new StreamSlice(streamId, last, events);
    }

    public async Task<IReadOnlyList<RecordedEvent>> ReadAll(LogPosition after, int maxCount, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxCount);
        // Only transactions older than every running one are final: nothing can appear before them any more.
        // ORDER BY names the table's columns explicitly: a bare "transaction_id" would bind to the select list's
        // transaction_id::text output column and sort as text ('1000' < '999'), skipping events when xids gain a digit.
        await using var cmd = dataSource.CreateCommand($"""
            select {Columns} from es.events
            where (transaction_id, position) > ($1::xid8, $2)
              and transaction_id < pg_snapshot_xmin(pg_current_snapshot())
            order by events.transaction_id, events.position
            limit $3
            """);
        cmd.Parameters.Add(new NpgsqlParameter { Value = after.Commit.ToString(), NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (long)after.Prepare });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (long)maxCount });
        var events = new List<RecordedEvent>(Math.Min(maxCount, 1024));
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) events.Add(ReadEvent(reader));
        return events;
    }

    public async IAsyncEnumerable<RecordedEvent> SubscribeToAll(LogPosition after, [EnumeratorCancellation] CancellationToken ct = default)
    {
        var position = after;
        var idle = options.MinIdleWait;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            var signal = notifications.NextSignal();
            var page = await ReadAll(position, options.SubscriptionPageSize, ct);
            foreach (var e in page)
            {
                yield return e;
                position = e.Position;
            }
            if (page.Count == options.SubscriptionPageSize) continue;
            if (page.Count > 0) idle = options.MinIdleWait;

            // Caught up: wait for a commit notification, and poll with a growing interval as well, because a
            // notified commit can stay invisible while an older transaction (perhaps not an append, which would
            // notify) holds the snapshot horizon back.
            await Task.WhenAny(signal, Task.Delay(idle, ct));
            ct.ThrowIfCancellationRequested();
            idle = signal.IsCompleted
                ? options.MinIdleWait
                : TimeSpan.FromTicks(Math.Min(idle.Ticks * 2, options.MaxIdleWait.Ticks));
        }
    }

    public async Task<long> CountAfter(LogPosition after, CancellationToken ct = default)
    {
        await using var cmd = dataSource.CreateCommand(
            "select count(*) from es.events where (transaction_id, position) > ($1::xid8, $2) and transaction_id < pg_snapshot_xmin(pg_current_snapshot())");
        cmd.Parameters.Add(new NpgsqlParameter { Value = after.Commit.ToString(), NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (long)after.Prepare });
        return (long)(await cmd.ExecuteScalarAsync(ct))!;
    }

    private static RecordedEvent ReadEvent(NpgsqlDataReader r) => new(
        StreamId: r.GetString(0),
        Revision: new StreamRevision(r.GetInt64(1)),
        Position: new LogPosition(ulong.Parse(r.GetString(2)), (ulong)r.GetInt64(3)),
        EventId: r.GetGuid(4),
        Type: r.GetString(5),
        Data: Encoding.UTF8.GetBytes(r.GetString(6)),
        Metadata: EventMetadataJson.Deserialize(Encoding.UTF8.GetBytes(r.GetString(7))));
}

public sealed class PostgresEventStoreOptions
{
    /// <summary>Events per ReadAll page while a subscription catches up.</summary>
    public int SubscriptionPageSize { get; init; } = 1000;
    /// <summary>First wait after catching up; doubles while nothing arrives.</summary>
    public TimeSpan MinIdleWait { get; init; } = TimeSpan.FromMilliseconds(5);
    /// <summary>Longest wait between polls when no notification arrives.</summary>
    public TimeSpan MaxIdleWait { get; init; } = TimeSpan.FromMilliseconds(500);
}
