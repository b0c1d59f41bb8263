using System.Text.RegularExpressions;
using Google.Protobuf;
using Steller.Infrastructure.EventStoreDb;
using Steller.Infrastructure.EventStoreDb.Protocol;

namespace Steller.EventStoreDb.Tests.Fake;

/// <summary>
/// The fake server's storage: one in-memory log with per-stream indexes, and EventStoreDB's commit check
/// (expected version and idempotency by event id) as far as shared/design/EVENTSTOREDB.md describes it.
/// THE REAL SERVER IS THE AUTHORITY: where this differs from EventStoreDB 24.x, EventStoreDB is right.
/// </summary>
internal sealed class FakeLog
{
    internal sealed record Record(string Stream, long Revision, ulong Position, Guid Id, string Type, string ContentType,
        ByteString Data, ByteString CustomMetadata, long Created);

    private readonly object gate = new();
    private readonly List<Record> log = [];
    private readonly Dictionary<string, List<Record>> streams = [];
    private readonly Dictionary<string, Dictionary<Guid, Record>> idsByStream = [];
    private TaskCompletionSource changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ulong next = 1_024; // the first records of a real log are not events; LogPosition.Start (0/0) is before all events

    public int MaxAppendSize { get; set; } = 1_048_576;

    /// <summary>When set, every call must carry exactly this authorization header (a secure node with users).</summary>
    public string? RequiredAuthorization { get; set; }

    /// <summary>The authorization header of the latest call (null when it had none).</summary>
    public string? LastAuthorization { get; set; }

    public FakeLog()
    {
        // A fresh real server already holds system events (types starting with '$').
        AppendSystemEvents(5);
    }

    public int Count { get { lock (gate) return log.Count; } }

    /// <summary>
    /// The commit phase: how long a write stays written but not yet committed before it is acknowledged (zero: at once).
    /// A duplicate event id arriving meanwhile is decided IdempotentNotReady, as on a real server: see <see cref="CommitTimeout"/>.
    /// Simplification: readers see such a write already (a real server shows it only once committed).
    /// </summary>
    public TimeSpan CommitDelay { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// After how long a write dropped as IdempotentNotReady is answered <c>Aborted "Operation timed out: Commit phase
    /// timeout."</c> (the real server's commit timeout, 2 s by default).
    /// </summary>
    public TimeSpan CommitTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How many writes were dropped as IdempotentNotReady.</summary>
    public int DroppedNotReady { get { lock (gate) return droppedNotReady; } }

    private int droppedNotReady;
    private readonly Dictionary<string, HashSet<Guid>> uncommitted = [];

    public enum InjectedAbort { None, BeforeWriting, AfterWriting }

    private readonly Queue<InjectedAbort> aborts = new();

    /// <summary>
    /// The next <paramref name="count"/> appends time out in the commit phase (Aborted), <paramref name="written"/>:
    /// after their events were written (the commit completed late), otherwise without writing anything.
    /// </summary>
    public void AbortNextAppends(int count, bool written)
    {
        lock (gate)
            for (var i = 0; i < count; i++) aborts.Enqueue(written ? InjectedAbort.AfterWriting : InjectedAbort.BeforeWriting);
    }

    public InjectedAbort TakeInjectedAbort()
    {
        lock (gate) return aborts.TryDequeue(out var a) ? a : InjectedAbort.None;
    }

    /// <summary>The filter of the latest $all read or subscription (null when it had none).</summary>
    public ReadReq.Types.Options.Types.FilterOptions? LastAllFilter { get; set; }

    /// <summary>
    /// Writes an event as another application would (its own metadata, or none), bypassing every check.
    /// </summary>
    public void AppendForeign(string stream, string type, string customMetadata = "")
    {
        lock (gate) Store(stream, type, "application/json", ByteString.CopyFromUtf8("{}"), ByteString.CopyFromUtf8(customMetadata), Guid.NewGuid());
        Signal();
    }

    public void AppendSystemEvents(int count)
    {
        lock (gate)
            for (var i = 0; i < count; i++)
                Store("$stats-127.0.0.1:2113", "$statsCollected", "application/json", ByteString.CopyFromUtf8("{\"proc-cpu\":1}"), ByteString.Empty, Guid.NewGuid());
        Signal();
    }

    /// <summary>
    /// What the commit check decided. <see cref="Response"/> null: IdempotentNotReady (an event id of the batch is in a
    /// write not yet committed), the write is dropped. <see cref="Uncommitted"/>: the ids this write left uncommitted,
    /// to pass to <see cref="Commit"/> after <see cref="CommitDelay"/>.
    /// </summary>
    public sealed record Outcome(AppendResp? Response, IReadOnlyList<Guid> Uncommitted);

    /// <summary>The outcome of EventStoreDB's commit check: write, idempotent (return the original), or wrong expected version.</summary>
    public Outcome Append(string stream, AppendReq.Types.Options options, IReadOnlyList<AppendReq.Types.ProposedMessage> events)
    {
        AppendResp result;
        var ids = events.Select(e => Wire.ToGuid(e.Id)).ToList();
        List<Guid> pending = [];
        lock (gate)
        {
            if (uncommitted.TryGetValue(stream, out var inFlight) && ids.Any(inFlight.Contains))
            {
                droppedNotReady++;
                return new Outcome(null, []);
            }
            streams.TryGetValue(stream, out var records);
            long current = records is { Count: > 0 } ? records.Count - 1 : -1;
            var kind = options.ExpectedStreamRevisionCase;

            result = Check();
            if (result.ResultCase == AppendResp.ResultOneofCase.None)
            {
                result = Write();
                if (CommitDelay > TimeSpan.Zero && events.Count > 0)
                {
                    if (!uncommitted.TryGetValue(stream, out var set)) uncommitted[stream] = set = [];
                    set.UnionWith(ids);
                    pending = ids;
                }
            }

            AppendResp Check()
            {
                if (kind == AppendReq.Types.Options.ExpectedStreamRevisionOneofCase.StreamExists)
                {
                    if (current < 0) return Wrong();
                    kind = AppendReq.Types.Options.ExpectedStreamRevisionOneofCase.Any; // then checked like "any"
                }
                if (kind == AppendReq.Types.Options.ExpectedStreamRevisionOneofCase.Any
                    || kind == AppendReq.Types.Options.ExpectedStreamRevisionOneofCase.NoStream && current < 0)
                {
                    // Idempotency by id: the first id decides; all stored → the original result; some stored → refused.
                    idsByStream.TryGetValue(stream, out var known);
                    Record? last = null;
                    foreach (var id in ids)
                    {
                        if (known is null || !known.TryGetValue(id, out var stored))
                            return last is null ? new AppendResp() : Wrong();
                        last = stored;
                    }
                    return last is null ? new AppendResp() : Success(last.Revision, last.Position);
                }
                var expected = kind == AppendReq.Types.Options.ExpectedStreamRevisionOneofCase.NoStream ? -1 : (long)options.Revision;
                if (expected < current)
                {
                    // Only a retry written at exactly expected+1 onwards is recognised.
                    if (ids.Count == 0) return Wrong();
                    var revision = expected;
                    foreach (var id in ids)
                    {
                        revision++;
                        if (revision <= current && records![(int)revision].Id == id) continue;
                        return Wrong();
                    }
                    var original = records![(int)revision];
                    return Success(original.Revision, original.Position);
                }
                return expected > current ? Wrong() : new AppendResp();
            }

            AppendResp Wrong()
            {
                var w = new AppendResp.Types.WrongExpectedVersion();
                if (current >= 0) w.CurrentRevision = (ulong)current; else w.CurrentNoStream = Wire.Empty;
                switch (options.ExpectedStreamRevisionCase)
                {
                    case AppendReq.Types.Options.ExpectedStreamRevisionOneofCase.Revision: w.ExpectedRevision = options.Revision; break;
                    case AppendReq.Types.Options.ExpectedStreamRevisionOneofCase.NoStream: w.ExpectedNoStream = Wire.Empty; break;
                    case AppendReq.Types.Options.ExpectedStreamRevisionOneofCase.StreamExists: w.ExpectedStreamExists = Wire.Empty; break;
                    default: w.ExpectedAny = Wire.Empty; break;
                }
                return new AppendResp { WrongExpectedVersion = w };
            }

            AppendResp Write()
            {
                if (events.Count == 0)
                {
                    var empty = new AppendResp.Types.Success { NoPosition = Wire.Empty };
                    if (current >= 0) empty.CurrentRevision = (ulong)current; else empty.NoStream = Wire.Empty;
                    return new AppendResp { Success = empty };
                }
                Record last = null!;
                for (var i = 0; i < events.Count; i++)
                {
                    var e = events[i];
                    last = Store(stream, e.Metadata["type"], e.Metadata["content-type"], e.Data, e.CustomMetadata, ids[i]);
                }
                return Success(last.Revision, last.Position);
            }
        }
        if (result.ResultCase == AppendResp.ResultOneofCase.Success) Signal();
        return new Outcome(result, pending);
    }

    /// <summary>Ends the commit phase of a write: its ids are no longer "not ready".</summary>
    public void Commit(string stream, IReadOnlyList<Guid> ids)
    {
        lock (gate)
            if (uncommitted.TryGetValue(stream, out var set))
            {
                set.ExceptWith(ids);
                if (set.Count == 0) uncommitted.Remove(stream);
            }
    }

    private static AppendResp Success(long revision, ulong position) => new()
    {
        Success = new AppendResp.Types.Success
        {
            CurrentRevision = (ulong)revision,
            Position = new AppendResp.Types.Position { CommitPosition = position, PreparePosition = position },
        },
    };

    private Record Store(string stream, string type, string contentType, ByteString data, ByteString metadata, Guid id)
    {
        if (!streams.TryGetValue(stream, out var records)) streams[stream] = records = [];
        if (!idsByStream.TryGetValue(stream, out var ids)) idsByStream[stream] = ids = [];
        // commit == prepare for every event, as observed.
        var record = new Record(stream, records.Count, next, id, type, contentType, data, metadata,
            (DateTime.UtcNow - DateTime.UnixEpoch).Ticks);
        next += 64 + (ulong)data.Length + (ulong)metadata.Length + (ulong)type.Length;
        records.Add(record);
        ids.TryAdd(id, record);
        log.Add(record);
        return record;
    }

    private void Signal()
    {
        TaskCompletionSource old;
        lock (gate)
        {
            old = changed;
            changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        old.TrySetResult();
    }

    /// <summary>Completes at the next write.</summary>
    public Task Changed() { lock (gate) return changed.Task; }

    public IReadOnlyList<Record>? Stream(string stream)
    {
        lock (gate) return streams.TryGetValue(stream, out var r) ? r.ToList() : null;
    }

    /// <summary>Records from index <paramref name="from"/> on (a snapshot).</summary>
    public IReadOnlyList<Record> From(int from)
    {
        lock (gate) return from >= log.Count ? [] : log.GetRange(from, log.Count - from);
    }

    /// <summary>The index of the record at exactly <paramref name="position"/>, or -1 when it is not a record boundary.</summary>
    public int IndexOf(ulong position)
    {
        lock (gate)
        {
            var lo = 0; var hi = log.Count - 1;
            while (lo <= hi)
            {
                var mid = (lo + hi) / 2;
                var p = log[mid].Position;
                if (p == position) return mid;
                if (p < position) lo = mid + 1; else hi = mid - 1;
            }
            return -1;
        }
    }

    /// <summary>The index of the first record after <paramref name="position"/>.</summary>
    public int IndexAfter(ulong position)
    {
        lock (gate)
        {
            var i = log.FindIndex(r => r.Position > position);
            return i < 0 ? log.Count : i;
        }
    }

    public static Func<Record, bool> Matcher(ReadReq.Types.Options options)
    {
        if (options.FilterOptionCase != ReadReq.Types.Options.FilterOptionOneofCase.Filter) return _ => true;
        var f = options.Filter;
        var expression = f.FilterCase == ReadReq.Types.Options.Types.FilterOptions.FilterOneofCase.EventType ? f.EventType : f.StreamIdentifier;
        Func<Record, string> subject = f.FilterCase == ReadReq.Types.Options.Types.FilterOptions.FilterOneofCase.EventType ? r => r.Type : r => r.Stream;
        if (expression.Prefix.Count > 0)
        {
            var prefixes = expression.Prefix.ToArray();
            return r => prefixes.Any(p => subject(r).StartsWith(p, StringComparison.Ordinal));
        }
        var regex = new Regex(expression.Regex, RegexOptions.Compiled);
        return r => regex.IsMatch(subject(r));
    }
}
