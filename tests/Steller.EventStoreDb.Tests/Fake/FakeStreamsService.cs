using System.Collections.Concurrent;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Steller.Infrastructure.EventStoreDb;
using Steller.Infrastructure.EventStoreDb.Protocol;
using Empty = Steller.Infrastructure.EventStoreDb.Protocol.Empty;
using Errors = Steller.Infrastructure.EventStoreDb.Protocol.Errors;
using Rpc = Steller.Infrastructure.EventStoreDb.Protocol.Rpc;

namespace Steller.EventStoreDb.Tests.Fake;

/// <summary>
/// A small in-process fake of EventStoreDB's Streams gRPC service, for CI where no real server can run.
/// It reproduces the behaviours recorded in shared/design/EVENTSTOREDB.md: Options-first appends, silent bare
/// Unknown failures, dedup by event id, wrong_expected_version fields, the append size limit and missing-metadata
/// trailers, stream_not_found, inclusive forward $all reads from a position, exclusive subscription starts,
/// confirmation → history → caught_up → live, stream-prefix and event-type filters with checkpoints, and the commit
/// phase (a duplicate event id arriving before the first write commits is dropped as IdempotentNotReady and answered
/// Aborted "Operation timed out: Commit phase timeout." at the commit timeout). As a member of a <see cref="FakeCluster"/>,
/// a follower answers appends, and reads sent with <c>requires-leader: true</c>, with the not-leader exception. It is not EventStoreDB:
/// THE REAL SERVER IS THE AUTHORITY, and the contract suite runs against one whenever STELLER_ESDB_CONNECTION is set.
/// </summary>
internal sealed class FakeStreamsService(FakeLog log, FakeSubscriptions subscriptions, FakeNode node) : Streams.StreamsBase
{
    private static readonly Empty Nothing = new();

    /// <summary>What the real server answers where it fails silently: Unknown, no detail, no trailers.</summary>
    private static RpcException BareUnknown() => new(new Status(StatusCode.Unknown, ""));

    private static RpcException InvalidArgument(string exception, params (string Key, string Value)[] more)
    {
        var trailers = new Metadata { { "exception", exception } };
        foreach (var (k, v) in more) trailers.Add(k, v);
        return new RpcException(new Status(StatusCode.InvalidArgument, exception), trailers);
    }

    private void Authenticate(ServerCallContext context)
    {
        var given = context.RequestHeaders.GetValue("authorization");
        log.LastAuthorization = given;
        if (log.RequiredAuthorization is { } required && given != required)
            throw new RpcException(new Status(StatusCode.Unauthenticated, "Bad HTTP authentication credentials"));
    }

    public override async Task<AppendResp> Append(IAsyncStreamReader<AppendReq> requests, ServerCallContext context)
    {
        Authenticate(context);
        node.CountUnaryAppend();
        if (!node.IsLeader) throw node.NotLeader(); // only the leader writes
        var ct = context.CancellationToken;
        if (!await requests.MoveNext(ct) || requests.Current.ContentCase != AppendReq.ContentOneofCase.Options) throw BareUnknown();
        var options = requests.Current.Options;
        var stream = options.StreamIdentifier?.StreamName.ToStringUtf8() ?? "";
        if (stream.Length == 0) throw BareUnknown(); // a real server fails without a reason; "$all" is accepted as an ordinary stream

        var proposed = new List<AppendReq.Types.ProposedMessage>();
        long size = 0;
        while (await requests.MoveNext(ct))
        {
            if (requests.Current.ContentCase != AppendReq.ContentOneofCase.ProposedMessage) throw BareUnknown();
            var m = requests.Current.ProposedMessage;
            if (m.Id is null || m.Id.ValueCase == UUID.ValueOneofCase.None) throw BareUnknown();
            if (!m.Metadata.ContainsKey("type") || !m.Metadata.ContainsKey("content-type"))
                throw InvalidArgument("missing-required-metadata-property", ("required-metadata-properties", "type, content-type"));
            size += m.Data.Length + m.CustomMetadata.Length + 2L * m.Metadata["type"].Length;
            if (size > log.MaxAppendSize)
                throw InvalidArgument("maximum-append-size-exceeded", ("maximum-append-size", log.MaxAppendSize.ToString()));
            proposed.Add(m);
        }
        // Only a completed request stream commits: a cancelled append writes nothing.
        ct.ThrowIfCancellationRequested();
        var injected = log.TakeInjectedAbort();
        if (injected == FakeLog.InjectedAbort.BeforeWriting) throw CommitTimeout();
        var outcome = log.Append(stream, options, proposed);
        if (outcome.Response is null)
        {
            // IdempotentNotReady: the server drops the write and the client hears of it only at its commit timeout.
            await Task.Delay(log.CommitTimeout, ct);
            throw CommitTimeout();
        }
        if (outcome.Uncommitted.Count > 0)
        {
            await Task.Delay(log.CommitDelay, CancellationToken.None);
            log.Commit(stream, outcome.Uncommitted);
        }
        if (injected == FakeLog.InjectedAbort.AfterWriting) throw CommitTimeout();
        node.CountAppend();
        if (node.Cluster?.TakeDropAfterWrite() is { } newLeader)
        {
            // Written, but the connection drops before the answer and another node takes over.
            node.Cluster.ElectLeader(newLeader);
            context.GetHttpContext().Abort();
            throw new RpcException(new Status(StatusCode.Unavailable, "connection dropped (fake)"));
        }
        return outcome.Response;
    }

    // ------------------------------------------------------------ BatchAppend

    /// <summary>
    /// BatchAppend as EventStoreDB 24.x's BatchAppendWorker does it: requests are read in order; the first request of a
    /// correlation id carries the options (later ones only add events; a request for an id that is not open is ignored
    /// without an answer); the append is committed at <c>is_final</c>, asynchronously, so answers come in completion
    /// order. Errors are answers (a google.rpc.Status), not the call's status: wrong expected version (AlreadyExists,
    /// details WrongExpectedVersion), Timeout (DeadlineExceeded: the commit timeout, the IdempotentNotReady drop, a
    /// deadline of zero, or is_final not arriving within min(deadline, write timeout)), MaximumAppendSizeExceeded,
    /// BadRequest (no stream identifier; a missing metadata key, after which the id stays open). Not-leader is the
    /// exception: it ends the whole call with the not-leader status and trailers. The response's
    /// expected_stream_position is never set. When the client completes its requests, the answers still due are sent
    /// and the call ends.
    /// </summary>
    public override async Task BatchAppend(IAsyncStreamReader<BatchAppendReq> requests, IServerStreamWriter<BatchAppendResp> responses,
        ServerCallContext context)
    {
        Authenticate(context);
        if (node.BatchAppendUnimplemented)
        {
            node.CountUnimplemented();
            throw new RpcException(new Status(StatusCode.Unimplemented, "Method is unimplemented."));
        }
        using var live = node.OpenBatchAppend(context);
        var ct = context.CancellationToken;
        var answers = System.Threading.Channels.Channel.CreateUnbounded<BatchAppendResp>();
        var receiving = Task.Run(() => ReceiveBatches(requests, answers.Writer, context), CancellationToken.None);
        await foreach (var answer in answers.Reader.ReadAllAsync(ct)) await responses.WriteAsync(answer, ct);
        await receiving;
    }

    private sealed class BatchCall
    {
        public int Ended;
    }

    private sealed class OpenBatch(BatchAppendReq.Types.Options options)
    {
        public BatchAppendReq.Types.Options Options { get; } = options;
        public List<AppendReq.Types.ProposedMessage> Events { get; } = [];
        public long Size { get; set; }
    }

    private async Task ReceiveBatches(IAsyncStreamReader<BatchAppendReq> requests,
        System.Threading.Channels.ChannelWriter<BatchAppendResp> answers, ServerCallContext context)
    {
        var ct = context.CancellationToken;
        var open = new Dictionary<Guid, OpenBatch>();
        var commits = new List<Task>();
        var call = new BatchCall();
        try
        {
            while (await requests.MoveNext(ct))
            {
                var r = requests.Current;
                var id = Wire.ToGuid(r.CorrelationId);
                void Answer(Rpc.Status error, StreamIdentifier? stream) =>
                    answers.TryWrite(new BatchAppendResp { CorrelationId = r.CorrelationId, StreamIdentifier = stream, Error = error });
                OpenBatch? batch;
                if (r.Options is not null)
                {
                    var timeout = RequestedTimeout(r.Options);
                    node.LastBatchAppendDeadline = timeout;
                    if (timeout > log.CommitTimeout) timeout = log.CommitTimeout; // the server's write timeout caps it
                    if (r.Options.StreamIdentifier is null)
                    {
                        Answer(BadRequest("Required field StreamIdentifier not set."), null);
                        continue;
                    }
                    if (timeout <= TimeSpan.Zero)
                    {
                        Answer(TimeoutStatus(), r.Options.StreamIdentifier);
                        continue;
                    }
                    lock (open)
                        if (!open.ContainsKey(id))
                        {
                            open[id] = new OpenBatch(r.Options);
                            var stream = r.Options.StreamIdentifier;
                            var correlation = r.CorrelationId;
                            // Still open (no is_final yet) when the timeout passes: answered Timeout and forgotten.
                            _ = Task.Delay(timeout, ct).ContinueWith(_ =>
                            {
                                bool removed;
                                lock (open) removed = open.Remove(id);
                                if (removed)
                                    answers.TryWrite(new BatchAppendResp { CorrelationId = correlation, StreamIdentifier = stream, Error = TimeoutStatus() });
                            }, CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
                        }
                }
                lock (open)
                    if (!open.TryGetValue(id, out batch)) continue;

                var bad = false;
                foreach (var m in r.ProposedMessages)
                {
                    if (!m.Metadata.TryGetValue("type", out var type) || !m.Metadata.ContainsKey("content-type"))
                    {
                        // The real server's KeyNotFoundException, answered BadRequest; the id stays open with the events before.
                        Answer(BadRequest($"The given key '{(type is null ? "type" : "content-type")}' was not present in the dictionary."),
                            batch.Options.StreamIdentifier);
                        bad = true;
                        break;
                    }
                    batch.Events.Add(new AppendReq.Types.ProposedMessage { Id = m.Id, Metadata = { m.Metadata }, CustomMetadata = m.CustomMetadata, Data = m.Data });
                    batch.Size += m.Data.Length + m.CustomMetadata.Length + 2L * type.Length;
                }
                if (bad) continue;
                if (batch.Size > log.MaxAppendSize)
                {
                    lock (open) open.Remove(id);
                    Answer(new Rpc.Status
                    {
                        Code = Rpc.Code.InvalidArgument, Message = "MaximumAppendSizeExceeded",
                        Details = Any.Pack(new Errors.MaximumAppendSizeExceeded { MaxAppendSize = (uint)log.MaxAppendSize }),
                    }, batch.Options.StreamIdentifier);
                }
                if (!r.IsFinal) continue;
                lock (open)
                    if (!open.Remove(id)) continue;
                commits.Add(CommitBatch(r.CorrelationId, batch, answers, context, call));
            }
            // The client completed its requests: the answers still due, then the end of the call.
            await Task.WhenAll(commits);
            answers.TryComplete();
        }
        catch (Exception e)
        {
            answers.TryComplete(e);
        }
    }

    /// <summary>One committed batch append; runs synchronously up to its first wait, so writes happen in request order.</summary>
    private async Task CommitBatch(UUID correlation, OpenBatch batch, System.Threading.Channels.ChannelWriter<BatchAppendResp> answers,
        ServerCallContext context, BatchCall call)
    {
        var streamId = batch.Options.StreamIdentifier;
        void Answer(BatchAppendResp a)
        {
            a.CorrelationId = correlation;
            a.StreamIdentifier = streamId;
            answers.TryWrite(a);
        }
        if (!node.IsLeader)
        {
            // The real server throws the not-leader exception from the write's completion: the whole call ends with it.
            if (Interlocked.Exchange(ref call.Ended, 1) == 0) answers.TryComplete(node.NotLeader());
            return;
        }
        var stream = streamId.StreamName.ToStringUtf8();
        var options = new AppendReq.Types.Options { StreamIdentifier = streamId };
        switch (batch.Options.ExpectedStreamPositionCase)
        {
            case BatchAppendReq.Types.Options.ExpectedStreamPositionOneofCase.StreamPosition: options.Revision = batch.Options.StreamPosition; break;
            case BatchAppendReq.Types.Options.ExpectedStreamPositionOneofCase.NoStream: options.NoStream = Nothing; break;
            case BatchAppendReq.Types.Options.ExpectedStreamPositionOneofCase.StreamExists: options.StreamExists = Nothing; break;
            case BatchAppendReq.Types.Options.ExpectedStreamPositionOneofCase.Any: options.Any = Nothing; break;
            default:
                Answer(new BatchAppendResp { Error = BadRequest($"Specified argument was out of the range of valid values. (Parameter '{batch.Options.ExpectedStreamPositionCase}')") });
                return;
        }
        var injected = log.TakeInjectedAbort();
        if (injected == FakeLog.InjectedAbort.BeforeWriting)
        {
            Answer(new BatchAppendResp { Error = TimeoutStatus() });
            return;
        }
        var outcome = log.Append(stream, options, batch.Events);
        if (outcome.Response is null)
        {
            // IdempotentNotReady: dropped; the client hears of it at the commit timeout, as Timeout.
            await Task.Delay(log.CommitTimeout, CancellationToken.None);
            Answer(new BatchAppendResp { Error = TimeoutStatus() });
            return;
        }
        if (outcome.Uncommitted.Count > 0)
        {
            await Task.Delay(log.CommitDelay, CancellationToken.None);
            log.Commit(stream, outcome.Uncommitted);
        }
        if (injected == FakeLog.InjectedAbort.AfterWriting)
        {
            Answer(new BatchAppendResp { Error = TimeoutStatus() });
            return;
        }
        node.CountAppend();
        if (node.Cluster?.TakeDropAfterWrite() is { } newLeader)
        {
            // Written, but the connection drops before the answer and another node takes over.
            node.Cluster.ElectLeader(newLeader);
            context.GetHttpContext().Abort();
            return;
        }
        Answer(ToBatchAnswer(outcome.Response));
    }

    private static BatchAppendResp ToBatchAnswer(AppendResp r)
    {
        if (r.ResultCase == AppendResp.ResultOneofCase.Success)
        {
            var s = new BatchAppendResp.Types.Success();
            if (r.Success.CurrentRevisionOptionCase == AppendResp.Types.Success.CurrentRevisionOptionOneofCase.CurrentRevision)
                s.CurrentRevision = r.Success.CurrentRevision;
            else s.NoStream = new Google.Protobuf.WellKnownTypes.Empty();
            if (r.Success.PositionOptionCase == AppendResp.Types.Success.PositionOptionOneofCase.Position)
                s.Position = new AllStreamPosition { CommitPosition = r.Success.Position.CommitPosition, PreparePosition = r.Success.Position.PreparePosition };
            else s.NoPosition = new Google.Protobuf.WellKnownTypes.Empty();
            return new BatchAppendResp { Success = s };
        }
        var w = r.WrongExpectedVersion;
        var details = new Errors.WrongExpectedVersion();
        if (w.CurrentRevisionOptionCase == AppendResp.Types.WrongExpectedVersion.CurrentRevisionOptionOneofCase.CurrentRevision)
            details.CurrentStreamRevision = w.CurrentRevision;
        else details.CurrentNoStream = new Google.Protobuf.WellKnownTypes.Empty();
        switch (w.ExpectedRevisionOptionCase)
        {
            case AppendResp.Types.WrongExpectedVersion.ExpectedRevisionOptionOneofCase.ExpectedRevision: details.ExpectedStreamPosition = w.ExpectedRevision; break;
            case AppendResp.Types.WrongExpectedVersion.ExpectedRevisionOptionOneofCase.ExpectedNoStream: details.ExpectedNoStream = new Google.Protobuf.WellKnownTypes.Empty(); break;
            case AppendResp.Types.WrongExpectedVersion.ExpectedRevisionOptionOneofCase.ExpectedStreamExists: details.ExpectedStreamExists = new Google.Protobuf.WellKnownTypes.Empty(); break;
            default: details.ExpectedAny = new Google.Protobuf.WellKnownTypes.Empty(); break;
        }
        return new BatchAppendResp
        {
            Error = new Rpc.Status { Code = Rpc.Code.AlreadyExists, Message = "WrongExpectedVersion", Details = Any.Pack(details) },
        };
    }

    private static TimeSpan RequestedTimeout(BatchAppendReq.Types.Options o) => o.DeadlineOptionCase switch
    {
        BatchAppendReq.Types.Options.DeadlineOptionOneofCase.Deadline => o.Deadline.ToTimeSpan(),
        BatchAppendReq.Types.Options.DeadlineOptionOneofCase.Deadline21100 => o.Deadline21100.ToDateTime() - DateTime.UtcNow,
        _ => TimeSpan.MaxValue,
    };

    /// <summary>The real server's Status.Timeout: its commit, prepare or forward timeout, or a request's deadline.</summary>
    private static Rpc.Status TimeoutStatus() =>
        new() { Code = Rpc.Code.DeadlineExceeded, Message = "Timeout", Details = Any.Pack(new Errors.Timeout()) };

    private static Rpc.Status BadRequest(string message) =>
        new() { Code = Rpc.Code.InvalidArgument, Message = "BadRequest", Details = Any.Pack(new Errors.BadRequest { Message = message }) };

    /// <summary>What a real server answers when a write's commit phase times out.</summary>
    private static RpcException CommitTimeout() => new(new Status(StatusCode.Aborted, "Operation timed out: Commit phase timeout."));

    public override async Task Read(ReadReq request, IServerStreamWriter<ReadResp> responses, ServerCallContext context)
    {
        Authenticate(context);
        if (!node.IsLeader && context.RequestHeaders.GetValue("requires-leader") == "true") throw node.NotLeader();
        node.CountRead();
        var o = request.Options ?? throw BareUnknown();
        if (o.UuidOption is null) throw BareUnknown();
        if (o.CountOptionCase == ReadReq.Types.Options.CountOptionOneofCase.None) throw new RpcException(new Status(StatusCode.InvalidArgument, "count_option"));
        if (o.FilterOptionCase == ReadReq.Types.Options.FilterOptionOneofCase.None) throw new RpcException(new Status(StatusCode.InvalidArgument, "filter_option"));
        if (o.CountOptionCase == ReadReq.Types.Options.CountOptionOneofCase.Count && o.Count == 0) throw BareUnknown();
        var asString = o.UuidOption.ContentCase == ReadReq.Types.Options.Types.UUIDOption.ContentOneofCase.String;
        var compatible = o.ControlOption?.Compatibility >= 1;
        var ct = context.CancellationToken;

        ReadResp Event(FakeLog.Record r) => new() { Event = ToReadEvent(r, asString) };

        if (o.StreamOptionCase == ReadReq.Types.Options.StreamOptionOneofCase.Stream)
        {
            if (o.CountOptionCase == ReadReq.Types.Options.CountOptionOneofCase.Subscription)
                throw new RpcException(new Status(StatusCode.Unimplemented, "stream subscriptions are not in the fake"));
            var name = o.Stream.StreamIdentifier.StreamName;
            var records = log.Stream(name.ToStringUtf8());
            if (records is null)
            {
                await responses.WriteAsync(new ReadResp { StreamNotFound = new ReadResp.Types.StreamNotFound { StreamIdentifier = new StreamIdentifier { StreamName = name } } }, ct);
                return;
            }
            var last = records.Count - 1;
            var count = (long)Math.Min(o.Count, int.MaxValue);
            if (o.ReadDirection == ReadReq.Types.Options.Types.ReadDirection.Forwards)
            {
                var from = o.Stream.RevisionOptionCase switch
                {
                    ReadReq.Types.Options.Types.StreamOptions.RevisionOptionOneofCase.Revision => (long)o.Stream.Revision,
                    ReadReq.Types.Options.Types.StreamOptions.RevisionOptionOneofCase.End => last + 1,
                    _ => 0,
                };
                var i = from;
                for (; i <= last && i - from < count; i++) await responses.WriteAsync(Event(records[(int)i]), ct);
                // Told only when the read reached the end of the stream (not when the count ran out first).
                if (compatible && i > last) await responses.WriteAsync(new ReadResp { LastStreamPosition = (ulong)last }, ct);
            }
            else
            {
                var from = o.Stream.RevisionOptionCase == ReadReq.Types.Options.Types.StreamOptions.RevisionOptionOneofCase.Revision
                    ? Math.Min((long)o.Stream.Revision, last) : last;
                var i = from;
                for (; i >= 0 && from - i < count; i--) await responses.WriteAsync(Event(records[(int)i]), ct);
                // Backwards reads tell the first position when they reach it, never the last.
                if (compatible && i < 0) await responses.WriteAsync(new ReadResp { FirstStreamPosition = 0 }, ct);
            }
            return;
        }

        if (o.StreamOptionCase != ReadReq.Types.Options.StreamOptionOneofCase.All) throw BareUnknown();
        log.LastAllFilter = o.FilterOptionCase == ReadReq.Types.Options.FilterOptionOneofCase.Filter ? o.Filter : null;
        var matches = FakeLog.Matcher(o);
        var filtered = o.FilterOptionCase == ReadReq.Types.Options.FilterOptionOneofCase.Filter;

        int StartIndex(bool inclusive)
        {
            switch (o.All.AllOptionCase)
            {
                case ReadReq.Types.Options.Types.AllOptions.AllOptionOneofCase.Position:
                    if (o.All.Position.CommitPosition != o.All.Position.PreparePosition) throw new RpcException(new Status(StatusCode.Unknown, "InvalidPosition"));
                    var at = log.IndexOf(o.All.Position.CommitPosition);
                    if (at < 0) throw new RpcException(new Status(StatusCode.Unknown, "InvalidPosition"));
                    return inclusive ? at : at + 1;
                case ReadReq.Types.Options.Types.AllOptions.AllOptionOneofCase.End: return log.Count;
                default: return 0;
            }
        }

        if (o.CountOptionCase == ReadReq.Types.Options.CountOptionOneofCase.Count)
        {
            var sent = 0UL;
            if (o.ReadDirection == ReadReq.Types.Options.Types.ReadDirection.Forwards)
            {
                // Forwards FROM a position includes the event at it.
                foreach (var r in log.From(StartIndex(inclusive: true)))
                {
                    if (sent == o.Count) break;
                    if (!matches(r)) continue;
                    await responses.WriteAsync(Event(r), ct);
                    sent++;
                }
            }
            else
            {
                // Backwards from a position excludes it.
                var all = log.From(0);
                var end = o.All.AllOptionCase == ReadReq.Types.Options.Types.AllOptions.AllOptionOneofCase.Position ? StartIndex(inclusive: true) : all.Count;
                for (var i = end - 1; i >= 0 && sent < o.Count; i--)
                {
                    if (!matches(all[i])) continue;
                    await responses.WriteAsync(Event(all[i]), ct);
                    sent++;
                }
            }
            return;
        }

        // A $all subscription: confirmation, history after the start (exclusive), caught_up, then live.
        var start = StartIndex(inclusive: false);
        using var call = subscriptions.Register(context);
        var token = call.Token;
        try
        {
            await responses.WriteAsync(new ReadResp { Confirmation = new ReadResp.Types.SubscriptionConfirmation { SubscriptionId = Guid.NewGuid().ToString() } }, token);
            var checkpointEvery = filtered ? Math.Max(1, (long)o.Filter.Max * Math.Max(1, o.Filter.CheckpointIntervalMultiplier)) : long.MaxValue;
            long scanned = 0;
            var caughtUp = false;
            var index = start;
            while (true)
            {
                var changed = log.Changed();
                var batch = log.From(index);
                foreach (var r in batch)
                {
                    index++;
                    scanned++;
                    if (matches(r))
                    {
                        await responses.WriteAsync(Event(r), token);
                        call.Delivered();
                    }
                    if (scanned % checkpointEvery == 0)
                        await responses.WriteAsync(new ReadResp { Checkpoint = new ReadResp.Types.Checkpoint { CommitPosition = r.Position, PreparePosition = r.Position, Timestamp = Timestamp.FromDateTime(DateTime.UtcNow) } }, token);
                }
                if (!caughtUp)
                {
                    caughtUp = true;
                    await responses.WriteAsync(new ReadResp { CaughtUp = new ReadResp.Types.CaughtUp { Timestamp = Timestamp.FromDateTime(DateTime.UtcNow) } }, token);
                }
                await changed.WaitAsync(token);
            }
        }
        catch (OperationCanceledException) when (call.KilledWithStatus)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, "Server is shutting down (fake)"));
        }
    }

    private static ReadResp.Types.ReadEvent ToReadEvent(FakeLog.Record r, bool idAsString) => new()
    {
        Event = new ReadResp.Types.ReadEvent.Types.RecordedEvent
        {
            Id = idAsString ? new UUID { String = r.Id.ToString() } : Wire.ToUuid(r.Id),
            StreamIdentifier = new StreamIdentifier { StreamName = ByteString.CopyFromUtf8(r.Stream) },
            StreamRevision = (ulong)r.Revision,
            CommitPosition = r.Position,
            PreparePosition = r.Position,
            Metadata = { ["type"] = r.Type, ["content-type"] = r.ContentType, ["created"] = r.Created.ToString() },
            CustomMetadata = r.CustomMetadata,
            Data = r.Data,
        },
        CommitPosition = r.Position,
    };
}

/// <summary>The live subscription calls, so a test can kill them (as a network fault or a server restart would).</summary>
internal sealed class FakeSubscriptions
{
    private readonly ConcurrentDictionary<Call, byte> calls = new();
    private int killAfter = -1;

    public int Active => calls.Count;
    public int Started { get; private set; }

    public Call Register(ServerCallContext context)
    {
        var call = new Call(this, context);
        calls[call] = 0;
        Started++;
        return call;
    }

    /// <summary>
    /// Kills every live subscription call: <paramref name="reset"/> aborts the HTTP/2 stream (a network fault),
    /// otherwise the call ends with status Unavailable (a server going down). Returns how many were killed.
    /// </summary>
    public int KillAll(bool reset = true)
    {
        var n = 0;
        foreach (var call in calls.Keys) { call.Kill(reset); n++; }
        return n;
    }

    /// <summary>The next subscription call that delivers <paramref name="events"/> events is reset right after the last of them.</summary>
    public void KillNextAfter(int events) => killAfter = events;

    internal sealed class Call : IDisposable
    {
        private readonly FakeSubscriptions owner;
        private readonly ServerCallContext context;
        private readonly CancellationTokenSource cts;
        private int delivered;

        public Call(FakeSubscriptions owner, ServerCallContext context)
        {
            this.owner = owner;
            this.context = context;
            cts = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        }

        public CancellationToken Token => cts.Token;
        public bool KilledWithStatus { get; private set; }

        public void Delivered()
        {
            delivered++;
            if (owner.killAfter > 0 && delivered >= owner.killAfter)
            {
                owner.killAfter = -1;
                Kill(reset: true);
            }
        }

        public void Kill(bool reset)
        {
            try
            {
                if (reset) context.GetHttpContext().Abort();
                else KilledWithStatus = true;
                cts.Cancel();
            }
            catch (ObjectDisposedException) { } // the call ended meanwhile
        }

        public void Dispose()
        {
            owner.calls.TryRemove(this, out _);
            cts.Dispose();
        }
    }
}
