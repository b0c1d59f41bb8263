using System.Net;
using System.Runtime.CompilerServices;
using System.Text;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using Steller.Application.EventStore;
using Steller.Infrastructure.EventStoreDb.Protocol;

namespace Steller.Infrastructure.EventStoreDb;

/// <summary>
/// The event store port on EventStoreDB 24.x over gRPC, with our own client of the public Streams service
/// (see shared/design/EVENTSTOREDB.md for the server behaviour this is written to).
/// Everything the server would accept silently or fail on without a reason is checked here first.
/// </summary>
public sealed class EventStoreDbEventStore : IEventStore, ICheckpointingLog, IEventLogStatistics, IDisposable
{
    private readonly EventStoreDbNodes nodes;
    private readonly EventStoreDbOptions options;
    private readonly Metadata headers = [];
    private readonly Metadata writeHeaders;
    private readonly Metadata readHeaders;
    private readonly TimeSpan operationTimeout;
    private readonly IReadOnlyList<string> logPrefixes;

    public EventStoreDbEventStore(EventStoreDbConnectionString connection, EventStoreDbOptions? options = null)
    {
        this.options = options ?? new EventStoreDbOptions();
        this.options.Validate();
        logPrefixes = this.options.LogStreamPrefixes;
        _ = EventStoreDbMetrics.ForeignEventsSkipped; // on /metrics from the start, at 0
        Connection = connection;
        operationTimeout = connection.DefaultDeadline ?? this.options.OperationTimeout;

        if (connection.HasCredentials)
            headers.Add("authorization", "Basic "
                + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{connection.Username}:{connection.Password}")));
        if (connection.ConnectionName is { Length: > 0 } name)
            headers.Add("connection-name", name);
        // A node that is not the leader answers such a call not-leader, naming the leader (see EventStoreDbNodes).
        writeHeaders = [];
        foreach (var header in headers) writeHeaders.Add(header);
        writeHeaders.Add("requires-leader", "true");
        nodes = new EventStoreDbNodes(connection, NewChannel, headers);
        readHeaders = nodes.ReadsRequireLeader ? writeHeaders : headers;
    }

    private GrpcChannel NewChannel(Uri address)
    {
        var handler = new SocketsHttpHandler
        {
            // The server allows 100 concurrent streams per HTTP/2 connection; beyond that calls queue and
            // subscriptions hang unless the handler may open more connections.
            EnableMultipleHttp2Connections = true,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            KeepAlivePingDelay = TimeSpan.FromSeconds(10),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
            ConnectTimeout = TimeSpan.FromSeconds(10),
        };
        if (Connection.Tls && !Connection.TlsVerifyCert)
            handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;

        return GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            MaxReceiveMessageSize = options.MaxReceiveMessageSize,
            MaxSendMessageSize = null,
            // Cancellation arrives as RpcException(Cancelled) and is mapped here; turned on, the client also reports
            // some failures that are not cancellations (a failed TLS handshake on a stream) as OperationCanceledException.
            ThrowOperationCanceledOnCancellation = false,
            // After a server restart, try to reconnect soon (the client's default backoff grows to two minutes).
            InitialReconnectBackoff = TimeSpan.FromMilliseconds(200),
            MaxReconnectBackoff = TimeSpan.FromSeconds(5),
        });
    }

    public EventStoreDbEventStore(string connectionString, EventStoreDbOptions? options = null)
        : this(EventStoreDbConnectionString.Parse(connectionString), options) { }

    public EventStoreDbConnectionString Connection { get; }

    /// <summary>How many gossip reads discovery has made (0 for a single node).</summary>
    internal int GossipReads => nodes.GossipReads;

    private DateTime Deadline() => DateTime.UtcNow.Add(operationTimeout);

    // ---------------------------------------------------------------- append

    public async Task<AppendResult> Append(string streamId, ExpectedRevision expected, IReadOnlyList<EventData> events,
        CancellationToken ct = default)
    {
        AppendRules.Check(streamId, events);
        var proposed = new AppendReq.Types.ProposedMessage[events.Count];
        long size = 0;
        for (var i = 0; i < events.Count; i++)
        {
            proposed[i] = Wire.Proposed(events[i]);
            size += Wire.SizeOnDisk(proposed[i]);
        }
        if (size > options.MaxAppendSizeBytes)
            throw new InvalidAppendException(
                $"The append of {events.Count} event(s) to '{streamId}' is {size:N0} bytes, over EventStoreDB's maximum append size of " +
                $"{options.MaxAppendSizeBytes:N0} bytes (EventStore:MaxAppendSizeBytes). Split it into smaller appends.");
        var request = new AppendRequest(streamId, expected, proposed);

        AppendResp response;
        var redirects = 0;
        for (var attempt = 1; ; attempt++)
        {
            var node = await nodes.Leader(ct);
            try
            {
                response = await AppendOnce(node, request, ct);
                break;
            }
            catch (RpcException e) when (redirects < MaxRedirects && nodes.FollowNotLeader(node, e))
            {
                // The node is not (or no longer) the leader and named the one that is: send it there at once.
                redirects++;
                attempt--;
            }
            catch (RpcException e) when (IsRetryableAppendFailure(e) && attempt < options.AppendAttempts && !ct.IsCancellationRequested)
            {
                // The server timed the write out (e.g. a duplicate event id arrived while the first write was not yet
                // committed: it drops the write and expects a retry). The event ids make the retry idempotent.
                await Task.Delay(AppendRetryDelay(attempt), ct);
            }
            catch (Exception e) when (nodes.IsCluster && IsConnectionFailure(e, ct) && attempt < options.AppendAttempts)
            {
                // The leader went away mid-append (it may or may not have written it): find the leader again and retry;
                // the event ids make the retry idempotent, so it lands once.
                nodes.Failed(node);
                await Task.Delay(AppendRetryDelay(attempt), ct);
            }
            catch (RpcException e)
            {
                throw MapAppendError(e, streamId, expected, attempt, ct);
            }
            catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
            {
                throw ServerCancelled(e, $"append to '{streamId}'");
            }
        }

        switch (response.ResultCase)
        {
            case AppendResp.ResultOneofCase.Success:
                return ToAppendResult(response.Success);
            case AppendResp.ResultOneofCase.WrongExpectedVersion:
                var actual = ActualRevision(response.WrongExpectedVersion);
                if (expected.IsExact && actual is not null && events.Count > 0
                    && await FindEarlierAppend(streamId, events, ct) is { } original)
                    return original;
                throw new WrongExpectedRevisionException(streamId, expected, actual);
            default:
                throw new InvalidOperationException($"EventStoreDB answered the append to '{streamId}' with neither success nor wrong "
                    + $"expected version.");
        }
    }

    /// <summary>How many not-leader answers one call follows before giving up (leadership moving on and on).</summary>
    private const int MaxRedirects = 5;

    /// <summary>
    /// A failure of the connection to the node rather than an answer from it: unavailable, a reset stream, the server
    /// cancelling the call (going down), or no node found. In a cluster the call is retried on the node found next.
    /// </summary>
    private static bool IsConnectionFailure(Exception e, CancellationToken ct) => !ct.IsCancellationRequested && e switch
    {
        RpcException { StatusCode: StatusCode.Unavailable } => true,
        RpcException { StatusCode: StatusCode.Internal or StatusCode.Unknown or StatusCode.Cancelled } r =>
            r.Status.DebugException is IOException or HttpRequestException or HttpProtocolException or OperationCanceledException
            || r.StatusCode == StatusCode.Cancelled,
        EventStoreDbDiscoveryException => false, // discovery already retried every seed; its message says so
        OperationCanceledException or IOException or HttpRequestException => true,
        _ => false,
    };

    /// <summary>One append, its events already converted; each wire form is built once, when first needed.</summary>
    private sealed class AppendRequest(string streamId, ExpectedRevision expected, AppendReq.Types.ProposedMessage[] proposed)
    {
        private BatchAppendReq.Types.Options? batchOptions;
        private BatchAppendReq.Types.ProposedMessage[]? batchMessages;
        private AppendReq[]? unary;

        /// <summary>
        /// A new request per attempt (the appender sets its correlation id; an earlier attempt's request may still sit in
        /// a broken call's queue), sharing the converted events.
        /// </summary>
        public BatchAppendReq Batch(TimeSpan deadline)
        {
            if (batchOptions is null)
            {
                var o = new BatchAppendReq.Types.Options { StreamIdentifier = Wire.Stream(streamId) };
                switch (expected.Value)
                {
                    case -1: o.NoStream = new Google.Protobuf.WellKnownTypes.Empty(); break;
                    case -2: o.Any = new Google.Protobuf.WellKnownTypes.Empty(); break;
                    case -3: o.StreamExists = new Google.Protobuf.WellKnownTypes.Empty(); break;
                    default: o.StreamPosition = (ulong)expected.Value; break;
                }
                batchOptions = o;
                batchMessages = Array.ConvertAll(proposed, Wire.ToBatch);
            }
            var options = batchOptions.Clone();
            // The server answers Timeout when the smaller of this and its own write timeout passes before is_final.
            options.Deadline = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(deadline);
            var request = new BatchAppendReq { Options = options, IsFinal = true };
            request.ProposedMessages.AddRange(batchMessages!);
            return request;
        }

        /// <summary>Unary Append's messages: Options first, then one per event.</summary>
        public AppendReq[] Unary()
        {
            if (unary is not null) return unary;
            var o = new AppendReq.Types.Options { StreamIdentifier = Wire.Stream(streamId) };
            switch (expected.Value)
            {
                case -1: o.NoStream = Wire.Empty; break;
                case -2: o.Any = Wire.Empty; break;
                case -3: o.StreamExists = Wire.Empty; break;
                default: o.Revision = (ulong)expected.Value; break;
            }
            var messages = new AppendReq[proposed.Length + 1];
            messages[0] = new AppendReq { Options = o };
            for (var i = 0; i < proposed.Length; i++) messages[i + 1] = new AppendReq { ProposedMessage = proposed[i] };
            return unary = messages;
        }
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<EventStoreDbEndpoint, BatchAppender> batchAppenders = new();

    /// <summary>The long-lived BatchAppend call of a node (opened at its first append).</summary>
    internal BatchAppender BatchAppenderOf(EventStoreDbNode node) =>
        batchAppenders.GetOrAdd(node.Endpoint, _ => new BatchAppender(node.Client, writeHeaders, IsTlsFailure));

    /// <summary>BatchAppend calls opened so far, over all nodes (for tests and diagnostics).</summary>
    internal int BatchAppendCallsOpened => batchAppenders.Values.Sum(b => b.CallsOpened);

    private async Task<AppendResp> AppendOnce(EventStoreDbNode node, AppendRequest request, CancellationToken ct)
    {
        if (options.BatchAppend)
        {
            var appender = BatchAppenderOf(node);
            if (!appender.Unsupported)
            {
                try
                {
                    return BatchAppender.ToAppendResp(await appender.Append(request.Batch(operationTimeout), operationTimeout, ct));
                }
                catch (RpcException e) when (e.StatusCode == StatusCode.Unimplemented)
                {
                    // A server before 21.10: nothing was written. Unary Append on this node from now on.
                    appender.MarkUnsupported();
                    options.Logger.LogInformation("EventStoreDB at {Node} does not offer BatchAppend; appends there use Append.", node.Endpoint);
                }
            }
        }
        return await AppendUnary(node, request.Unary(), ct);
    }

    private async Task<AppendResp> AppendUnary(EventStoreDbNode node, AppendReq[] messages, CancellationToken ct)
    {
        using var call = node.Client.Append(writeHeaders, Deadline(), ct);
        try
        {
            // Options first, then one message per event; completing the request stream commits.
            foreach (var m in messages) await call.RequestStream.WriteAsync(m, ct);
            await call.RequestStream.CompleteAsync();
        }
        catch (Exception) when (!ct.IsCancellationRequested)
        {
            // The server may end the call while we still write (e.g. an append over its size limit): its
            // status, with the reason in the trailers, comes with the response below.
        }
        return await call.ResponseAsync;
    }

    /// <summary>
    /// EventStoreDB answers its commit, prepare and forward timeouts with <c>Aborted</c> ("Operation timed out: ...");
    /// the write may or may not have happened, and the official clients retry it.
    /// </summary>
    private static bool IsRetryableAppendFailure(RpcException e) =>
        e.StatusCode == StatusCode.Aborted
        || e.StatusCode != StatusCode.DeadlineExceeded && e.Status.Detail.StartsWith("Operation timed out", StringComparison.Ordinal);

    private TimeSpan AppendRetryDelay(int attempt)
    {
        var delay = Math.Min(TimeSpan.FromSeconds(1).Ticks, options.AppendRetryDelay.Ticks * (1L << Math.Min(attempt - 1, 20)));
        return TimeSpan.FromTicks((long)(delay * (0.8 + 0.4 * Random.Shared.NextDouble())));
    }

    private static AppendResult ToAppendResult(AppendResp.Types.Success s) => new(
        new StreamRevision(s.CurrentRevisionOptionCase == AppendResp.Types.Success.CurrentRevisionOptionOneofCase.CurrentRevision
            ? checked((long)s.CurrentRevision) : -1),
        s.PositionOptionCase == AppendResp.Types.Success.PositionOptionOneofCase.Position
            ? new LogPosition(s.Position.CommitPosition, s.Position.PreparePosition)
            : LogPosition.Start);

    private static StreamRevision? ActualRevision(AppendResp.Types.WrongExpectedVersion w) => w.CurrentRevisionOptionCase switch
    {
        AppendResp.Types.WrongExpectedVersion.CurrentRevisionOptionOneofCase.CurrentRevision
            => new StreamRevision(checked((long)w.CurrentRevision)),
        AppendResp.Types.WrongExpectedVersion.CurrentRevisionOptionOneofCase.CurrentNoStream => null,
        // Servers before 20.6 only filled the legacy fields.
        _ => w.LegacyCurrentRevisionOptionCase
            == AppendResp.Types.WrongExpectedVersion.LegacyCurrentRevisionOptionOneofCase.LegacyCurrentRevision
            ? new StreamRevision(checked((long)w.LegacyCurrentRevision))
            : null,
    };

    /// <summary>
    /// EventStoreDB recognises a retried batch under an exact expectation only at the revision it was first written
    /// at. The port promises more (a stored event id is always a no-op), so after a refusal the newest events are
    /// searched for the batch: found whole and in order, the original result is returned.
    /// </summary>
    private async Task<AppendResult?> FindEarlierAppend(string streamId, IReadOnlyList<EventData> events, CancellationToken ct)
    {
        if (options.IdempotencySearchWindow <= 0) return null;
        var newest = await ReadStream(streamId, ReadDirection.Backwards, null, options.IdempotencySearchWindow, ct);
        var recent = newest.Events; // newest first
        for (var i = 0; i < recent.Count; i++)
        {
            if (recent[i].EventId != events[0].EventId) continue;
            // recent[i] holds the batch's first event; the rest must follow it, i.e. sit at i-1, i-2, ...
            if (i + 1 < events.Count) return null;
            for (var k = 1; k < events.Count; k++)
                if (recent[i - k].EventId != events[k].EventId) return null;
            var last = recent[i - (events.Count - 1)];
            return new AppendResult(last.Revision, last.Position);
        }
        return null;
    }

    private static Exception MapAppendError(RpcException e, string streamId, ExpectedRevision expected, int attempts, CancellationToken ct)
    {
        var kind = e.Trailers.GetValue("exception");
        if (IsRetryableAppendFailure(e))
            return new TimeoutException(
                $"EventStoreDB did not commit the append to '{streamId}' in {attempts} attempt(s) ({e.Status.Detail}). It may or may "
                    + "not have been written; retrying it with the same event ids is safe.", e);
        switch (e.StatusCode)
        {
            case StatusCode.Cancelled:
                return new OperationCanceledException($"The append to '{streamId}' was cancelled.", e, ct);
            case StatusCode.InvalidArgument when kind == "maximum-append-size-exceeded":
                var max = e.Trailers.GetValue("maximum-append-size");
                return new InvalidAppendException(
                    $"EventStoreDB refused the append to '{streamId}': it is over the server's maximum append size" +
                    $"{(max is null ? "" : $" of {max} bytes")} (maximum-append-size-exceeded). Split it, and set "
                        + $"EventStore:MaxAppendSizeBytes to the server's limit.");
            case StatusCode.InvalidArgument:
                return new InvalidAppendException(
                    $"EventStoreDB refused the append to '{streamId}': "
                        + $"{kind ?? "invalid argument"}{(string.IsNullOrEmpty(e.Status.Detail) ? "" : $" ({e.Status.Detail})")}.");
            case StatusCode.FailedPrecondition when kind == "wrong-expected-version":
                // The pre-20.6 way of saying it.
                var actualText = e.Trailers.GetValue("actual-version");
                StreamRevision? actual = long.TryParse(actualText, out var a) && a >= 0 ? new StreamRevision(a) : null;
                return new WrongExpectedRevisionException(streamId, expected, actual);
            default:
                return MapCommonError(e, $"append to '{streamId}'", ct);
        }
    }

    private static Exception MapCommonError(RpcException e, string what, CancellationToken ct) => IsTlsFailure(e)
        ? new System.Security.Authentication.AuthenticationException(
            $"The TLS handshake with EventStoreDB failed for the {what} ({e.Status.DebugException?.GetBaseException().Message}). " +
            "Trust the server's certificate, or add tlsVerifyCert=false to EventStore:ConnectionString for a self-signed one "
                + "(development only).", e)
        : e.StatusCode switch
    {
        StatusCode.Cancelled => new OperationCanceledException($"The {what} was cancelled.", e, ct),
        StatusCode.DeadlineExceeded => new TimeoutException($"EventStoreDB did not complete the {what} before its deadline.", e),
        StatusCode.ResourceExhausted => new InvalidOperationException(
            $"The {what} received a message larger than the client accepts ({e.Status.Detail}); raise "
                + $"EventStoreDbOptions.MaxReceiveMessageSize above the largest event.", e),
        StatusCode.Unauthenticated or StatusCode.PermissionDenied => new UnauthorizedAccessException(
            $"EventStoreDB refused the {what}: {e.Status.Detail} (check the user and password in EventStore:ConnectionString).", e),
        _ => e,
    };

    // ---------------------------------------------------------------- reading streams

    public async Task<StreamSlice> ReadStream(string streamId, ReadDirection direction = ReadDirection.Forwards,
        StreamRevision? from = null, int maxCount = int.MaxValue, CancellationToken ct = default)
    {
        AppendRules.CheckStreamId(streamId);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxCount);
        var streamOptions = new ReadReq.Types.Options.Types.StreamOptions { StreamIdentifier = Wire.Stream(streamId) };
        if (from is { } f) streamOptions.Revision = checked((ulong)f.Value);
        else if (direction == ReadDirection.Forwards) streamOptions.Start = Wire.Empty;
        else streamOptions.End = Wire.Empty;

        var request = ReadRequest(direction, (ulong)maxCount);
        request.Options.Stream = streamOptions;
        request.Options.NoFilter = Wire.Empty;

        var events = new List<RecordedEvent>();
        StreamRevision? last = null;
        var found = true;
        await ReadEach(request, $"read of '{streamId}'", resp =>
        {
            switch (resp.ContentCase)
            {
                case ReadResp.ContentOneofCase.Event: events.Add(Wire.ToRecordedEvent(resp.Event.Event)); break;
                case ReadResp.ContentOneofCase.StreamNotFound: found = false; break;
                case ReadResp.ContentOneofCase.LastStreamPosition: last = new StreamRevision(checked((long)resp.LastStreamPosition)); break;
            }
        }, ct);
        if (!found) return new StreamSlice(streamId, null, []);

        if (last is null)
        {
            // A server that does not send last_stream_position: ask for the newest event.
            if (direction == ReadDirection.Backwards && from is null && events.Count > 0) last = events[0].Revision;
            else last = (await ReadStream(streamId, ReadDirection.Backwards, null, 1, ct)).Events.FirstOrDefault()?.Revision;
            if (last is null) return new StreamSlice(streamId, null, []);
        }
        return new StreamSlice(streamId, last, events);
    }

    // ---------------------------------------------------------------- the global log

    public async Task<IReadOnlyList<RecordedEvent>> ReadAll(LogPosition after, int maxCount, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxCount);
        var events = new List<RecordedEvent>(Math.Min(maxCount, 1024));
        var position = after;
        while (true)
        {
            var page = await ScanAll(position, maxCount - events.Count, (r, _) =>
            {
                if (Read(r) is { } e) events.Add(e);
            }, ct);
            // A skipped foreign event leaves the page short: read on, so a short page still means the end of the log.
            if (page.End || events.Count >= maxCount) return events;
            position = page.Last;
        }
    }

    /// <summary>
    /// Scans up to <paramref name="count"/> events of Steller's (server-filtered) $all strictly after
    /// <paramref name="after"/>, handing each raw event and its position to <paramref name="each"/>.
    /// </summary>
    private async Task<(bool End, LogPosition Last)> ScanAll(LogPosition after, int count,
        Action<ReadResp.Types.ReadEvent.Types.RecordedEvent, LogPosition> each, CancellationToken ct)
    {
        // A forward $all read FROM a position includes the event at it: ask for one more and drop it.
        var requested = after == LogPosition.Start ? (ulong)count : (ulong)count + 1;
        var request = ReadRequest(ReadDirection.Forwards, requested);
        request.Options.All = AllFrom(after);
        request.Options.Filter = Filter(subscription: false);

        ulong received = 0;
        var seen = 0;
        var last = after;
        await ReadEach(request, "read of $all", resp =>
        {
            if (resp.ContentCase != ReadResp.ContentOneofCase.Event) return;
            received++;
            var r = resp.Event.Event;
            var position = new LogPosition(r.CommitPosition, r.PreparePosition);
            if (position <= after || seen == count) return;
            seen++;
            last = position;
            each(r, position);
        }, ct);
        return (received < requested, last);
    }

    /// <summary>
    /// Steller's event, or null for one that is not (no Steller metadata: another application wrote it to a stream with
    /// one of Steller's prefixes), which is counted and named in a warning instead of stopping every reader of the log.
    /// </summary>
    private RecordedEvent? Read(ReadResp.Types.ReadEvent.Types.RecordedEvent r)
    {
        if (Wire.TryToRecordedEvent(r) is { } e) return e;
        r.Metadata.TryGetValue(Wire.TypeKey, out var type);
        if (type is ['$', ..]) return null; // the server's own (e.g. a stream's tombstone), never Steller's
        EventStoreDbMetrics.ForeignEventsSkipped.Inc();
        var stream = r.StreamIdentifier?.StreamName.ToStringUtf8() ?? "";
        if (warnedStreams.Count > 1_000) warnedStreams.Clear();
        if (warnedStreams.TryAdd(stream, 0))
            options.Logger.LogWarning(
                "Skipped event {Stream}@{Revision} ({Type}) at {Position} in $all: it has no Steller metadata, so another application "
                    + "wrote it; Steller's readers ignore it (steller_foreign_events_skipped_total counts them; further ones in this "
                    + "stream are not logged).",
                stream, r.StreamRevision, type, $"{r.CommitPosition}/{r.PreparePosition}");
        return null;
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> warnedStreams = new(StringComparer.Ordinal);

    // ---------------------------------------------------------------- statistics (lag, progress)

    /// <summary>The position of the newest event of Steller's log (a filtered backwards read of one), null when it is empty.</summary>
    public async Task<LogPosition?> HeadPosition(CancellationToken ct = default)
    {
        var request = ReadRequest(ReadDirection.Backwards, 1);
        request.Options.All = new ReadReq.Types.Options.Types.AllOptions { End = Wire.Empty };
        request.Options.Filter = Filter(subscription: false);
        LogPosition? head = null;
        await ReadEach(request, "read of the head of $all", resp =>
        {
            if (resp.ContentCase == ReadResp.ContentOneofCase.Event)
                head = new LogPosition(resp.Event.Event.CommitPosition, resp.Event.Event.PreparePosition);
        }, ct);
        return head;
    }

    /// <summary>
    /// Events of Steller's log after <paramref name="after"/> up to its head: exact for the first
    /// <see cref="EventStoreDbOptions.ExactCountLimit"/>, beyond that an estimate from the remaining distance in log
    /// positions (bytes of the transaction log) at the density counted so far. EventStoreDB keeps no count to ask for.
    /// </summary>
    public async Task<long> CountAfter(LogPosition after, CancellationToken ct = default)
    {
        if (await HeadPosition(ct) is not { } head || head <= after) return 0;
        long counted = 0;
        LogPosition? first = null;
        var position = after;
        while (counted < options.ExactCountLimit)
        {
            var reachedHead = false;
            var page = await ScanAll(position, (int)Math.Min(options.ExactCountLimit - counted, 5_000), (r, p) =>
            {
                if (p > head) { reachedHead = true; return; }
                first ??= p;
                if (Wire.TryToRecordedEvent(r) is not null) counted++; // what ReadAll delivers
            }, ct);
            if (page.End || reachedHead || page.Last >= head) return counted;
            position = page.Last;
        }
        // The rest at the density counted between the first and the last event scanned (not from `after`, which may lie
        // far before the first event, e.g. the start of the log with the server's own records).
        var span = (double)(position.Commit - first!.Value.Commit);
        var remaining = (double)(head.Commit - position.Commit);
        return counted + (long)Math.Round(Math.Max(1, counted - 1) * remaining / Math.Max(1, span));
    }

    public async IAsyncEnumerable<RecordedEvent> SubscribeToAll(LogPosition after, [EnumeratorCancellation] CancellationToken ct = default)
    {
        await foreach (var item in SubscribeToAllWithCheckpoints(after, ct))
            if (item.Event is { } e) yield return e;
    }

    /// <summary>
    /// A live, server-filtered subscription to $all after <paramref name="after"/>: history, then live events.
    /// A dropped call is resubscribed after the last event delivered, with a growing delay, so nothing is lost
    /// or delivered twice. Ends only on cancellation (or an error that retrying cannot fix, such as bad credentials).
    /// </summary>
    public async IAsyncEnumerable<LogItem> SubscribeToAllWithCheckpoints(LogPosition after,
        [EnumeratorCancellation] CancellationToken ct = default)
    {
        var delivered = after;   // resume point: the last event handed out
        var reported = after;    // the last event or checkpoint handed out
        var failures = 0;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            var request = ReadRequest(ReadDirection.Forwards, count: null);
            request.Options.All = AllFrom(delivered);   // subscribing FROM a position excludes it
            request.Options.Filter = Filter(subscription: true);

            Exception dropped = null!;
            var redirected = false;
            EventStoreDbNode? node = null;
            try { node = await nodes.Reader(ct); }
            catch (EventStoreDbDiscoveryException e) { dropped = e; } // no node found yet: wait and look again
            // Never a deadline on a subscription: it would end it with DeadlineExceeded.
            if (node is not null)
            using (var call = node.Client.Read(request, readHeaders, deadline: null, ct))
            {
                var responses = call.ResponseStream;
                while (true)
                {
                    bool more;
                    try { more = await responses.MoveNext(ct); }
                    catch (Exception e) when (IsCancellation(e,
                        ct)) { throw new OperationCanceledException("The subscription to $all was cancelled.", e, ct); }
                    catch (Exception e) when (disposed) { throw new ObjectDisposedException(nameof(EventStoreDbEventStore), e); }
                    catch (RpcException e) when (IsTlsFailure(e)) { throw MapCommonError(e, "subscription to $all", ct); }
                    catch (RpcException e)
                        when (IsInvalidPosition(
                        e)) { throw new ArgumentException($"The subscription to $all starts after {delivered}, which is not a position in "
                        + $"this EventStoreDB's log.", e); }
                    catch (RpcException e) when (nodes.FollowNotLeader(node, e)) { dropped = e; redirected = true; break; }
                    catch (Exception e) when (IsTransient(e)) { dropped = e; nodes.Failed(node); break; }
                    catch (RpcException e) { throw MapCommonError(e, "subscription to $all", ct); }
                    if (!more) { dropped = new IOException("EventStoreDB ended the subscription to $all."); break; }

                    failures = 0; // the server is answering again
                    var resp = responses.Current;
                    switch (resp.ContentCase)
                    {
                        case ReadResp.ContentOneofCase.Event:
                            var raw = resp.Event.Event;
                            var position = new LogPosition(raw.CommitPosition, raw.PreparePosition);
                            if (position <= delivered) continue; // already delivered before a resubscription
                            delivered = reported = position;
                            // A foreign event is skipped; its position is still a safe resume point (a checkpoint).
                            yield return new LogItem(position, Read(raw));
                            break;
                        case ReadResp.ContentOneofCase.Checkpoint:
                            var checkpoint = new LogPosition(resp.Checkpoint.CommitPosition, resp.Checkpoint.PreparePosition);
                            if (checkpoint <= reported) continue;
                            reported = checkpoint;
                            yield return new LogItem(checkpoint, null);
                            break;
                        // confirmation, caught_up and fell_behind carry nothing the port needs
                    }
                }
            }

            failures++;
            if (redirected && failures <= MaxRedirects) continue; // resubscribe on the leader the old one named, at once
            var delay = TimeSpan.FromTicks(Math.Min(options.ReconnectMaxDelay.Ticks,
                options.ReconnectMinDelay.Ticks * (1L << Math.Min(failures - 1, 20))));
            delay = TimeSpan.FromTicks((long)(delay.Ticks * (0.8 + 0.4 * Random.Shared.NextDouble()))); // jitter
            options.SubscriptionDropped?.Invoke(dropped, delay);
            await Task.Delay(delay, ct);
        }
    }

    // ---------------------------------------------------------------- helpers

    internal static bool IsTlsFailure(RpcException e)
    {
        for (var x = e.Status.DebugException; x is not null; x = x.InnerException)
            if (x is System.Security.Authentication.AuthenticationException) return true;
        return false;
    }

    private static bool IsInvalidPosition(RpcException e) =>
        e.StatusCode == StatusCode.Unknown && e.Status.Detail.Contains("InvalidPosition", StringComparison.OrdinalIgnoreCase);

    private static bool IsCancellation(Exception e, CancellationToken ct) =>
        ct.IsCancellationRequested && e is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled };

    /// <summary>Failures a resubscription can fix: the connection, the server restarting, a call reset.</summary>
    private static bool IsTransient(Exception e) => e switch
    {
        RpcException r => r.StatusCode is StatusCode.Unavailable or StatusCode.Internal or StatusCode.Unknown or StatusCode.Cancelled
            or StatusCode.DeadlineExceeded or StatusCode.Aborted,
        IOException or HttpRequestException => true,
        // The server cancelled the call (e.g. it is shutting down): not our token, so not our cancellation.
        OperationCanceledException => true,
        _ => false,
    };

    private static ReadReq ReadRequest(ReadDirection direction, ulong? count)
    {
        var o = new ReadReq.Types.Options
        {
            ReadDirection = direction == ReadDirection.Forwards ? ReadReq.Types.Options.Types.ReadDirection.Forwards
                : ReadReq.Types.Options.Types.ReadDirection.Backwards,
            ResolveLinks = false,
            // Without uuid_option the server fails with a bare Unknown.
            UuidOption = new ReadReq.Types.Options.Types.UUIDOption { Structured = Wire.Empty },
            // compatibility 1: the server tells first_stream_position / last_stream_position.
            ControlOption = new ReadReq.Types.Options.Types.ControlOption { Compatibility = 1 },
        };
        if (count is { } c) o.Count = c;
        else o.Subscription = new ReadReq.Types.Options.Types.SubscriptionOptions();
        return new ReadReq { Options = o };
    }

    private static ReadReq.Types.Options.Types.AllOptions AllFrom(LogPosition position) =>
        position == LogPosition.Start
            ? new() { Start = Wire.Empty }
            : new() { Position = new ReadReq.Types.Options.Types.Position { CommitPosition = position.Commit,
                PreparePosition = position.Prepare } };

    /// <summary>Steller's log: its own streams by prefix (plus any configured), filtered on the server.</summary>
    private ReadReq.Types.Options.Types.FilterOptions Filter(bool subscription)
    {
        var expression = new ReadReq.Types.Options.Types.FilterOptions.Types.Expression();
        expression.Prefix.AddRange(logPrefixes);
        var filter = new ReadReq.Types.Options.Types.FilterOptions { StreamIdentifier = expression };
        if (subscription)
        {
            filter.Max = options.SubscriptionFilterWindow;
            filter.CheckpointIntervalMultiplier = options.CheckpointIntervalMultiplier;
        }
        else
        {
            filter.Count = Wire.Empty;
            filter.CheckpointIntervalMultiplier = 1;
        }
        return filter;
    }

    private async Task ReadEach(ReadReq request, string what, Action<ReadResp> each, CancellationToken ct)
    {
        var redirects = 0;
        for (var attempt = 1; ; attempt++)
        {
            var node = await nodes.Reader(ct);
            var received = false;
            try
            {
                using var call = node.Client.Read(request, readHeaders, Deadline(), ct);
                await foreach (var resp in call.ResponseStream.ReadAllAsync(ct))
                {
                    received = true;
                    each(resp);
                }
                return;
            }
            // Before anything was handed out a read can be repeated elsewhere: on the leader a not-leader answer
            // names, or (in a cluster) on the node found next when this one went away.
            catch (RpcException e) when (!received && redirects < MaxRedirects && nodes.FollowNotLeader(node, e))
            {
                redirects++;
                attempt--;
            }
            catch (Exception e) when (!received && nodes.IsCluster && IsConnectionFailure(e, ct) && attempt < options.AppendAttempts)
            {
                nodes.Failed(node);
                await Task.Delay(AppendRetryDelay(attempt), ct);
            }
            catch (RpcException e) when (IsInvalidPosition(e))
            {
                throw new ArgumentException($"The {what} started at a position that is not in this EventStoreDB's log.", e);
            }
            catch (RpcException e)
            {
                throw MapCommonError(e, what, ct);
            }
            catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
            {
                throw ServerCancelled(e, what);
            }
        }
    }

    /// <summary>A call the other side cancelled (a server going down) is unavailability, not the caller's cancellation.</summary>
    private static RpcException ServerCancelled(Exception e, string what) =>
        new(new Status(StatusCode.Unavailable, $"EventStoreDB ended the {what} (the server cancelled the call).", e));

    private volatile bool disposed;

    /// <summary>Closes the channel; running subscriptions end with <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        disposed = true;
        foreach (var appender in batchAppenders.Values) appender.Dispose();
        nodes.Dispose();
    }
}
