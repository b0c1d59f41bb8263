using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using Npgsql;
using NpgsqlTypes;
using Steller.Application.EventStore;
using Steller.Domain;

namespace Steller.Infrastructure.Postgres;

/// <summary>
/// The embedded event store on PostgreSQL (schema "es", migration 0001).
/// The global log is ordered by (transaction id, position) and a reader only returns rows whose
/// transaction is older than the oldest still running that may append (<see cref="Horizon"/>), so an identity value
/// taken early but committed late can never be skipped. No timers, no global lock.
/// </summary>
public sealed class PostgresEventStore(NpgsqlDataSource dataSource, LogNotifications notifications, PostgresEventStoreOptions? options = null)
    : IEventStore, IEventLogStatistics, IEventsByTransferId
{
    private readonly PostgresEventStoreOptions options = options ?? new PostgresEventStoreOptions();

    private const string Columns = "stream_id, revision, transaction_id::text, position, event_id, event_type, data::text, metadata::text";

    /// <summary>
    /// Appends through group commit: appends to different streams that arrive while commits are in flight share the next
    /// transaction (one round trip and one WAL flush for all of them). With nothing in flight an append is committed at
    /// once, alone: no timer is ever on the path. Each append keeps its own outcome; see <see cref="Commit"/>.
    /// </summary>
    public async Task<AppendResult> Append(string streamId, ExpectedRevision expected, IReadOnlyList<EventData> events, CancellationToken ct = default)
    {
        AppendRules.Check(streamId, events);
        var pending = new PendingAppend(streamId, expected, events, Stopwatch.GetTimestamp());
        bool start;
        lock (queue)
        {
            queue.Add(pending);
            start = committers < this.options.MaxConcurrentCommits;
            if (start) committers++;
        }
        // The caller that finds a committer free commits the group it belongs to itself (no thread hop when the store is
        // idle); whatever queued meanwhile is handed to a background committer.
        if (start) await CommitNextGroup(handOff: true);
        // The caller may stop waiting; the append itself still commits (or not) with its group.
        return await pending.Done.Task.WaitAsync(ct);
    }

    private sealed record PendingAppend(string StreamId, ExpectedRevision Expected, IReadOnlyList<EventData> Events, long StartedAt)
    {
        public readonly TaskCompletionSource<AppendResult> Done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private readonly List<PendingAppend> queue = [];
    private int committers;

    /// <summary>A background committer: takes whatever queued while the previous group committed, until nothing is left.</summary>
    private async Task CommitQueued()
    {
        while (await CommitNextGroup(handOff: false)) { }
    }

    /// <summary>
    /// Commits the next group; false (and the committer slot freed) when nothing was queued. With <paramref name="handOff"/>
    /// the caller commits one group only and leaves what queued meanwhile to a background committer that keeps its slot.
    /// </summary>
    private async Task<bool> CommitNextGroup(bool handOff)
    {
        List<PendingAppend> group;
        lock (queue)
        {
            if (queue.Count == 0)
            {
                committers--;
                return false;
            }
            var take = Math.Min(queue.Count, options.MaxGroupSize);
            group = queue.GetRange(0, take);
            queue.RemoveRange(0, take);
        }
        await Commit(group);
        if (!handOff) return true;
        lock (queue)
        {
            if (queue.Count == 0)
            {
                committers--;
                return false;
            }
        }
        _ = Task.Run(CommitQueued);
        return false;
    }

    /// <summary>
    /// Commits a group in ONE implicit transaction (an Npgsql batch: one round trip, one commit). Streams are locked in
    /// code-point order of stream id (<see cref="CodePointOrder"/>), so two groups never deadlock each other. A wrong
    /// expected revision is an outcome of its own append (es.append answers it without raising), so it fails that append only. Anything that raises rolls the whole
    /// group back; the group is then committed again one append at a time, so only the culprit fails.
    /// </summary>
    private async Task Commit(List<PendingAppend> group)
    {
        var ordered = group.OrderBy(p => p.StreamId, CodePointOrder.Instance).ToList(); // stable: one stream keeps its order
        AppendOutcome[] outcomes;
        try
        {
            outcomes = await AppendTogether(ordered);
        }
        catch (Exception) when (ordered.Count > 1)
        {
            Interlocked.Increment(ref groupsRetriedAlone);
            EventStoreMetrics.GroupsRetriedAlone.Inc();
            foreach (var p in ordered) await CommitAlone(p);
            return;
        }
        catch (Exception e)
        {
            if (e is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
            {
                // Two writers raced to create one stream with the same event id; asking again sees the winner.
                await CommitAlone(ordered[0]);
                return;
            }
            Finish(ordered[0], null, e);
            return;
        }
        for (var i = 0; i < ordered.Count; i++) Finish(ordered[i], outcomes[i], null);
        if (ordered.Any(p => p.Events.Count > 0)) notifications.Poke(); // committed: wake subscribers
    }

    private long groupsRetriedAlone;

    /// <summary>Groups of this store that PostgreSQL refused as a whole and that were committed again one append at a time.</summary>
    public long GroupsRetriedAlone => Interlocked.Read(ref groupsRetriedAlone);

    private async Task CommitAlone(PendingAppend p)
    {
        try
        {
            AppendOutcome outcome;
            try { outcome = (await AppendTogether([p]))[0]; }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
            {
                outcome = (await AppendTogether([p]))[0];
            }
            Finish(p, outcome, null);
            if (p.Events.Count > 0) notifications.Poke();
        }
        catch (Exception e) { Finish(p, null, e); }
    }

    private static void Finish(PendingAppend p, AppendOutcome? outcome, Exception? error)
    {
        EventStoreMetrics.AppendSeconds.WithLabels("postgres").Observe(Stopwatch.GetElapsedTime(p.StartedAt).TotalSeconds);
        if (error is not null) p.Done.TrySetException(error);
        else if (outcome!.Code == 2)
            p.Done.TrySetException(new WrongExpectedRevisionException(p.StreamId, p.Expected, outcome.Revision >= 0 ? new StreamRevision(outcome.Revision) : null));
        // An empty append to a missing stream is accepted and creates nothing: next expected stays "no stream" (-1).
        else p.Done.TrySetResult(new AppendResult(new StreamRevision(outcome.Revision), outcome.Position));
    }

    private sealed record AppendOutcome(short Code, long Revision, LogPosition Position);

    /// <summary>
    /// The whole group in one implicit transaction (one Npgsql batch: one round trip, one commit): one call of
    /// es.append_many (migration 0024) per round, where a round holds at most one append per stream (the k-th append of
    /// each stream is in round k, so one stream's appends keep their order); a round of one append calls es.append.
    /// The group is in <see cref="CodePointOrder"/> of stream id, the order es.append_many locks rows in. Results are taken
    /// only once the whole batch committed.
    /// </summary>
    private async Task<AppendOutcome[]> AppendTogether(IReadOnlyList<PendingAppend> group)
    {
        var rounds = Rounds(group);
        await using var conn = await dataSource.OpenConnectionAsync();
        await using var batch = conn.CreateBatch();
        foreach (var round in rounds)
        {
            if (round.Count == 1)
            {
                var p = group[round[0]];
                var single = new NpgsqlBatchCommand(AppendSql);
                AddAppendParameters(single.Parameters, p.StreamId, p.Expected, p.Events);
                batch.BatchCommands.Add(single);
            }
            else
            {
                var many = new NpgsqlBatchCommand(AppendManySql);
                AddAppendManyParameters(many.Parameters, round.Select(i => group[i]).ToList());
                batch.BatchCommands.Add(many);
            }
        }
        var outcomes = new AppendOutcome[group.Count];
        await using (var reader = await batch.ExecuteReaderAsync())
        {
            for (var r = 0; r < rounds.Count; r++)
            {
                if (r > 0) await reader.NextResultAsync();
                foreach (var i in rounds[r])
                {
                    if (!await reader.ReadAsync()) throw new InvalidOperationException("es.append returned fewer rows than appends.");
                    outcomes[i] = ReadOutcome(reader);
                }
            }
            while (await reader.NextResultAsync()) { } // to the end: the implicit transaction has committed once the reader is done
        }
        return outcomes;
    }

    /// <summary>Indexes into the (sorted) group, by round: round k holds the k-th append of every stream that has one.</summary>
    private static List<List<int>> Rounds(IReadOnlyList<PendingAppend> group)
    {
        var rounds = new List<List<int>>();
        var k = 0;
        for (var i = 0; i < group.Count; i++)
        {
            k = i > 0 && group[i].StreamId == group[i - 1].StreamId ? k + 1 : 0;
            if (k == rounds.Count) rounds.Add([]);
            rounds[k].Add(i);
        }
        return rounds;
    }

    private const string AppendManySql = "select outcome, revision, transaction_id::text, log_position from es.append_many($1, $2, $3, $4, $5, $6, $7, $8)";

    private static void AddAppendManyParameters(NpgsqlParameterCollection parameters, IReadOnlyList<PendingAppend> appends)
    {
        // For each event, the 1-based index of its append.
        var of = appends.SelectMany((p, a) => Enumerable.Repeat(a + 1, p.Events.Count)).ToArray();
        parameters.Add(new NpgsqlParameter { Value = appends.Select(p => p.StreamId).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        parameters.Add(new NpgsqlParameter { Value = appends.Select(p => p.Expected.Value).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
        parameters.Add(new NpgsqlParameter { Value = of, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer });
        AddEventArrays(parameters, appends.SelectMany(p => p.Events).ToList());
    }

    /// <summary>The events as the five arrays es.append and es.append_many take: ids, types, data, metadata, recorded at.</summary>
    private static void AddEventArrays(NpgsqlParameterCollection parameters, IReadOnlyList<EventData> events)
    {
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
        parameters.Add(new NpgsqlParameter { Value = ids, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid });
        parameters.Add(new NpgsqlParameter { Value = types, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        parameters.Add(new NpgsqlParameter { Value = data, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Json });
        parameters.Add(new NpgsqlParameter { Value = metadata, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Json });
        parameters.Add(new NpgsqlParameter { Value = recordedAt, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
    }

    private const string AppendSql = "select outcome, revision, transaction_id::text, log_position from es.append($1, $2, $3, $4, $5, $6, $7)";

    private static AppendOutcome ReadOutcome(NpgsqlDataReader reader) => new(
        reader.GetInt16(0),
        reader.GetInt64(1),
        reader.IsDBNull(2) ? LogPosition.Start : new LogPosition(ulong.Parse(reader.GetString(2)), (ulong)reader.GetInt64(3)));

    private static void AddAppendParameters(NpgsqlParameterCollection parameters, string streamId, ExpectedRevision expected, IReadOnlyList<EventData> events)
    {
        parameters.Add(new NpgsqlParameter { Value = streamId, NpgsqlDbType = NpgsqlDbType.Text });
        parameters.Add(new NpgsqlParameter { Value = expected.Value, NpgsqlDbType = NpgsqlDbType.Bigint });
        AddEventArrays(parameters, events);
    }

    /// <summary>
    /// Appends on the caller's connection, inside the caller's transaction when one is given: the events become
    /// visible in the log only when that transaction commits (and never, if it rolls back). Call
    /// <see cref="AnnounceCommitted"/> after committing, or subscribers find the events by polling.
    /// </summary>
    public async Task<AppendResult> AppendWithin(NpgsqlConnection conn, NpgsqlTransaction? tx, string streamId, ExpectedRevision expected,
        IReadOnlyList<EventData> events, CancellationToken ct = default)
    {
        AppendRules.Check(streamId, events);
        var started = Stopwatch.GetTimestamp();
        await using var cmd = new NpgsqlCommand(AppendSql, conn, tx);
        AddAppendParameters(cmd.Parameters, streamId, expected, events);
        AppendOutcome outcome;
        try
        {
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            if (!await reader.ReadAsync(ct)) throw new InvalidOperationException("es.append returned no row.");
            outcome = ReadOutcome(reader);
        }
        finally
        {
            EventStoreMetrics.AppendSeconds.WithLabels("postgres").Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
        if (outcome.Code == 2)
            throw new WrongExpectedRevisionException(streamId, expected, outcome.Revision >= 0 ? new StreamRevision(outcome.Revision) : null);
        return new AppendResult(new StreamRevision(outcome.Revision), outcome.Position);
    }

    /// <summary>Wakes subscribers after the caller committed an <see cref="AppendWithin"/>.</summary>
    public void AnnounceCommitted() => notifications.Poke();

    public async Task<StreamSlice> ReadStream(string streamId, ReadDirection direction = ReadDirection.Forwards, StreamRevision? from = null,
        int maxCount = int.MaxValue, CancellationToken ct = default)
    {
        AppendRules.CheckStreamId(streamId);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxCount);
        var forwards = direction == ReadDirection.Forwards;
        var start = from?.Value ?? (forwards ? 0 : long.MaxValue);

        // One statement, so the stream's last revision and its events come from one snapshot: no stream, no row; a stream
        // with no event in the asked range, one row of nulls beside its revision.
        await using var cmd = dataSource.CreateCommand($"""
            select s.revision, e.*
              from es.streams s
              left join lateral (
                    select {Columns} from es.events
                     where stream_id = s.stream_id and revision {(forwards ? ">=" : "<=")} $2
                     order by revision {(forwards ? "asc" : "desc")} limit $3) e on true
             where s.stream_id = $1 and s.revision >= 0
            """);
        cmd.Parameters.Add(new NpgsqlParameter { Value = streamId });
        cmd.Parameters.Add(new NpgsqlParameter { Value = start });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (long)maxCount });

        await using var reader = await cmd.ExecuteReaderAsync(ct);
        StreamRevision? last = null;
        var events = new List<RecordedEvent>();
        while (await reader.ReadAsync(ct))
        {
            last ??= new StreamRevision(reader.GetInt64(0));
            if (!reader.IsDBNull(1)) events.Add(ReadEvent(reader, 1));
        }
        return new StreamSlice(streamId, last, events);
    }

    /// <summary>
    /// The transfer id the index events_by_transfer_id (migration 0019) holds for an event: its "transferId" as stored, when the
    /// data begins with it and <see cref="TransferIdIndex.Covers"/> it; else null. It never fails on any text (no de-escaping,
    /// at most 144 characters looked at, at most 128 kept). Written here exactly as in the migration, so the planner matches
    /// it to the index.
    /// </summary>
    public const string TransferIdExpression =
        """(case when left(data::text, 144) ~ '^[{]"transferId":"[A-Za-z0-9:._-]+"' then split_part(substr(data::text, 16, 129), '"', 1) end)""";

    /// <summary>
    /// By the index events_by_transfer_id (migration 0019); its predicate is repeated so the planner may use it. Ids the index
    /// does not cover (<see cref="TransferIdIndex.Covers"/>) are never found.
    /// </summary>
    public async Task<IReadOnlyList<RecordedEvent>> ReadByTransferIds(string streamId, IReadOnlyCollection<string> transferIds, long toRevision,
        CancellationToken ct = default)
    {
        AppendRules.CheckStreamId(streamId);
        var covered = transferIds.Where(TransferIdIndex.Covers).Distinct(StringComparer.Ordinal).ToArray();
        if (covered.Length == 0 || toRevision < 0) return [];
        await using var cmd = dataSource.CreateCommand($"""
            select {Columns} from es.events
             where stream_id = $1 and {TransferIdExpression} = any($2) and {TransferIdExpression} is not null and revision <= $3
             order by revision
            """);
        cmd.Parameters.Add(new NpgsqlParameter { Value = streamId, NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter { Value = covered, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter { Value = toRevision, NpgsqlDbType = NpgsqlDbType.Bigint });
        var events = new List<RecordedEvent>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) events.Add(ReadEvent(reader));
        return events;
    }

    /// <summary>
    /// The gap-safe read of es.events in log order after ($1 commit, $2 prepare), at most $3 rows (parameters by
    /// <see cref="AddGapSafeParameters"/>): every reader of the global log uses this one rule. The start is given as
    /// init plans, <c>(select $1)</c>, so the planner does not see it: with the value in sight it looked up the index's
    /// last entries on every call to estimate how many rows lie beyond it (the start is always at the head of the log,
    /// past the statistics), and under load that made planning cost more than the read (docs/benchmarks.md). The plan is
    /// the same ordered index scan either way.
    /// </summary>
    public const string GapSafeAfter = $"""
        where (transaction_id, position) > ((select $1::xid8), (select $2::bigint))
          and transaction_id < {Horizon}
        order by events.transaction_id, events.position
        limit $3
        """;

    /// <summary>
    /// The oldest running transaction that may still append: nothing can appear before it any more (migration 0021).
    /// Long transactions of sessions that never append (<see cref="NoAppendDataSource"/>: the read models' batches), once
    /// announced, do not hold readers back. An init plan: evaluated once per statement, on the statement's snapshot.
    /// </summary>
    public const string Horizon = "(select es.log_horizon())";

    public static void AddGapSafeParameters(NpgsqlCommand cmd, LogPosition after, int max)
    {
        cmd.Parameters.Add(new NpgsqlParameter { Value = after.Commit.ToString(), NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (long)after.Prepare });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (long)max });
    }

    public async Task<IReadOnlyList<RecordedEvent>> ReadAll(LogPosition after, int maxCount, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxCount);
        // Only transactions older than every running one are final: nothing can appear before them any more.
        // ORDER BY names the table's columns explicitly: a bare "transaction_id" would bind to the select list's
        // transaction_id::text output column and sort as text ('1000' < '999'), skipping events when xids gain a digit.
        await using var cmd = dataSource.CreateCommand($"select {Columns} from es.events {GapSafeAfter}");
        AddGapSafeParameters(cmd, after, maxCount);
        var events = new List<RecordedEvent>(Math.Min(maxCount, 1024));
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) events.Add(ReadEvent(reader));
        return events;
    }

    public async IAsyncEnumerable<RecordedEvent> SubscribeToAll(LogPosition after, [EnumeratorCancellation] CancellationToken ct = default)
    {
        var position = after;
        var idle = options.MinIdleWait;
        // A commit was notified and has not shown up yet: since when (Stopwatch ticks), else 0. It is hidden behind an older
        // transaction that is still open (a read model's batch, a job's), which will not notify when it ends: look again at
        // the shortest interval for a while instead of backing off, or the event waits up to twice as long as it was hidden.
        long owedSince = 0;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            var signal = notifications.NextSignal();
            var page = await ReadAll(position, options.SubscriptionPageSize, ct);
            if (page.Count > 0 && owedSince != 0)
            {
                LogSubscriptionMetrics.HiddenSeconds.Observe(Stopwatch.GetElapsedTime(owedSince).TotalSeconds);
                owedSince = 0;
            }
            foreach (var e in page)
            {
                yield return e;
                position = e.Position;
            }
            if (page.Count == options.SubscriptionPageSize) continue;
            if (page.Count > 0) idle = options.MinIdleWait;

            // Caught up: wait for a commit notification, and poll as well, because a notified commit can stay invisible
            // while an older transaction (perhaps not an append, which would notify) holds the snapshot horizon back.
            await Task.WhenAny(signal, Task.Delay(idle, ct));
            ct.ThrowIfCancellationRequested();
            if (signal.IsCompleted)
            {
                idle = options.MinIdleWait;
                if (owedSince == 0) owedSince = Stopwatch.GetTimestamp();
                // A commit rarely comes alone (an order's placement is three appends a millisecond apart): wait a moment so one
                // read, and one batch for every follower, takes them all.
                if (options.WakeLinger > TimeSpan.Zero) await Task.Delay(options.WakeLinger, ct);
            }
            else if (owedSince != 0 && Stopwatch.GetElapsedTime(owedSince) < options.HiddenCommitWindow) idle = options.MinIdleWait;
            else
            {
                owedSince = 0; // nothing owed any more (or hidden for long: a long transaction; back off as when idle)
                // Every append notifies while the LISTEN connection is up: the poll is then only a safety net (a commit
                // hidden behind a long transaction, a NOTIFY lost with a connection), and an idle node need not ask often.
                var longest = notifications.IsListening ? options.ListeningIdleWait : options.MaxIdleWait;
                idle = TimeSpan.FromTicks(Math.Min(idle.Ticks * 2, longest.Ticks));
            }
        }
    }

    public Task<long> CountAfter(LogPosition after, CancellationToken ct = default) => CountAfter(dataSource, after, ct);

    /// <summary>Events after <paramref name="after"/> visible in the log (by the gap-safe rule), on any data source.</summary>
    public static async Task<long> CountAfter(NpgsqlDataSource dataSource, LogPosition after, CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand(
            $"select count(*) from es.events where (transaction_id, position) > ($1::xid8, $2) and transaction_id < {Horizon}");
        cmd.Parameters.Add(new NpgsqlParameter { Value = after.Commit.ToString(), NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (long)after.Prepare });
        return (long)(await cmd.ExecuteScalarAsync(ct))!;
    }

    /// <summary>An event from the <see cref="Columns"/>, starting at column <paramref name="at"/>.</summary>
    private static RecordedEvent ReadEvent(NpgsqlDataReader r, int at = 0) => new(
        StreamId: r.GetString(at),
        Revision: new StreamRevision(r.GetInt64(at + 1)),
        Position: new LogPosition(ulong.Parse(r.GetString(at + 2)), (ulong)r.GetInt64(at + 3)),
        EventId: r.GetGuid(at + 4),
        Type: r.GetString(at + 5),
        Data: Encoding.UTF8.GetBytes(r.GetString(at + 6)),
        Metadata: EventMetadataJson.Deserialize(Encoding.UTF8.GetBytes(r.GetString(at + 7))));
}

public sealed class PostgresEventStoreOptions
{
    /// <summary>Groups committing at once; more appends than that wait and share the next group (group commit).</summary>
    public int MaxConcurrentCommits { get; init; } = 2;
    /// <summary>Appends in one group (one transaction) at most.</summary>
    public int MaxGroupSize { get; init; } = 500;
    /// <summary>Events per ReadAll page while a subscription catches up.</summary>
    public int SubscriptionPageSize { get; init; } = 1000;
    /// <summary>First wait after catching up; doubles while nothing arrives.</summary>
    public TimeSpan MinIdleWait { get; init; } = TimeSpan.FromMilliseconds(5);
    /// <summary>Longest wait between polls when no notification arrives, while the LISTEN connection is down.</summary>
    public TimeSpan MaxIdleWait { get; init; } = TimeSpan.FromMilliseconds(500);
    /// <summary>
    /// Longest wait between polls when no notification arrives, while the LISTEN connection is up (every append then
    /// wakes the subscription at once): <c>Projections:IdlePollMilliseconds</c>.
    /// </summary>
    public TimeSpan ListeningIdleWait { get; init; } = TimeSpan.FromSeconds(3);
    /// <summary>How long a notified commit that is not visible yet is looked for at <see cref="MinIdleWait"/> before backing off.</summary>
    public TimeSpan HiddenCommitWindow { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>
    /// How long a caught-up subscription woken by a commit waits before it reads, so the commits right behind it come in the
    /// same read (<c>Projections:WakeLingerMilliseconds</c>; zero: read at once).
    /// </summary>
    public TimeSpan WakeLinger { get; init; }
}

/// <summary>The log subscription in /metrics.</summary>
public static class LogSubscriptionMetrics
{
    public static readonly Prometheus.Histogram HiddenSeconds = Prometheus.Metrics.CreateHistogram("steller_log_hidden_commit_seconds",
        "From a commit notification whose events a subscription could not read yet (an older transaction still open holds the "
        + "gap-safe horizon back) to the read that found them.", new Prometheus.HistogramConfiguration
        {
            Buckets = Prometheus.Histogram.ExponentialBuckets(0.001, 2, 14),
        });
}
