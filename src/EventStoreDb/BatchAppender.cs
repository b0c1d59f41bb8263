using System.Collections.Concurrent;
using Grpc.Core;
using Steller.Infrastructure.EventStoreDb.Protocol;
using Steller.Infrastructure.EventStoreDb.Protocol.Errors;
using Code = Steller.Infrastructure.EventStoreDb.Protocol.Rpc.Code;
using WrongExpectedVersion = Steller.Infrastructure.EventStoreDb.Protocol.Errors.WrongExpectedVersion;

namespace Steller.Infrastructure.EventStoreDb;

/// <summary>
/// One long-lived <c>BatchAppend</c> call to one node, shared by every append sent there, as the official clients do:
/// each append is one request (options, its events, <c>is_final</c>) under a fresh correlation id, and its answer is
/// matched by that id (answers come in completion order, so appends to different streams never wait for each other).
/// When the call breaks, every append still waiting fails (see <see cref="Translate"/>) and the next append opens a
/// new call. A server without BatchAppend answers <c>Unimplemented</c>: the caller then remembers
/// <see cref="Unsupported"/> and uses unary <c>Append</c> on this node from then on.
/// </summary>
internal sealed class BatchAppender : IDisposable
{
    private readonly Streams.StreamsClient client;
    private readonly Metadata headers;
    private readonly Func<RpcException, bool> isTlsFailure;
    private readonly CancellationTokenSource disposing = new();
    private readonly object gate = new();
    private Session? session;
    private volatile bool unsupported;
    private int callsOpened;

    public BatchAppender(Streams.StreamsClient client, Metadata headers, Func<RpcException, bool> isTlsFailure)
    {
        this.client = client;
        this.headers = headers;
        this.isTlsFailure = isTlsFailure;
    }

    /// <summary>The node answered BatchAppend with Unimplemented (a server before 21.10): use unary Append there.</summary>
    public bool Unsupported => unsupported;

    public void MarkUnsupported() => unsupported = true;

    /// <summary>How many BatchAppend calls this node got (one, unless calls broke).</summary>
    public int CallsOpened => Volatile.Read(ref callsOpened);

    /// <summary>
    /// Sends one append (a request with options, all its events and <c>is_final</c>; its correlation id is set here) and
    /// returns the node's answer to it. Throws the call's <see cref="RpcException"/> when the call failed for a reason
    /// the caller must see (Unimplemented, not-leader, credentials, TLS), <c>Unavailable</c> when it broke otherwise
    /// (the append may or may not have been written), and <c>DeadlineExceeded</c> when no answer came within
    /// <paramref name="timeout"/>.
    /// </summary>
    public async Task<BatchAppendResp> Append(BatchAppendReq request, TimeSpan timeout, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        var id = Guid.NewGuid();
        request.CorrelationId = Wire.ToUuid(id);
        Session current;
        TaskCompletionSource<BatchAppendResp>? answer;
        var opened = 0;
        do
        {
            current = Current();
            answer = current.Expect(id);
            // A call that failed between being handed out and the append joining it: open the next one.
        } while (answer is null && ++opened < 3);
        if (answer is null) throw current.Failure!;

        try
        {
            await current.Write(request);
            return await answer.Task.WaitAsync(timeout, ct);
        }
        catch (TimeoutException)
        {
            current.Forget(id);
            throw new RpcException(new Status(StatusCode.DeadlineExceeded,
                $"No answer to the batch append within {timeout.TotalSeconds:0.###} s."));
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            current.Forget(id);
            throw;
        }
    }

    private Session Current()
    {
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposing.IsCancellationRequested, this);
            if (session is null || session.Failure is not null)
            {
                // No deadline: the call lives as long as the connection; each append has its own (in its options).
                session = new Session(client.BatchAppend(headers, deadline: null, disposing.Token), Translate);
                callsOpened++;
            }
            return session;
        }
    }

    /// <summary>
    /// What a waiting append is told when the call ends. Answers the caller acts on are kept as they are: Unimplemented
    /// (fall back to Append), not-leader (follow the leader it names), credentials and TLS failures (retrying cannot
    /// fix them). Anything else is the call breaking: <c>Unavailable</c>, retriable (event ids make a retry idempotent).
    /// </summary>
    private Exception Translate(Exception e)
    {
        if (e is RpcException r && (r.StatusCode is StatusCode.Unimplemented or StatusCode.Unauthenticated or StatusCode.PermissionDenied
                or StatusCode.InvalidArgument or StatusCode.ResourceExhausted
            || EventStoreDbNodes.NotLeaderEndpoint(r) is not null || isTlsFailure(r)))
            return r;
        if (disposing.IsCancellationRequested) return new ObjectDisposedException(nameof(EventStoreDbEventStore), e);
        var why = e is RpcException rpc ? $"{rpc.StatusCode}: {rpc.Status.Detail}" : e.GetBaseException().Message;
        return new RpcException(new Status(StatusCode.Unavailable,
            $"The BatchAppend call to EventStoreDB broke ({why}); the append may or may not have been written, and retrying it "
                + "with the same event ids is safe.", e));
    }

    public void Dispose()
    {
        lock (gate)
        {
            if (disposing.IsCancellationRequested) return;
            disposing.Cancel();
        }
        session?.Fail(new ObjectDisposedException(nameof(EventStoreDbEventStore)));
        disposing.Dispose();
    }

    // ---------------------------------------------------------------- one call

    private sealed class Session
    {
        private readonly AsyncDuplexStreamingCall<BatchAppendReq, BatchAppendResp> call;
        private readonly Func<Exception, Exception> translate;
        private readonly ConcurrentDictionary<Guid, TaskCompletionSource<BatchAppendResp>> pending = new();
        private static readonly WriteOptions Buffered = new(WriteFlags.BufferHint);
        private readonly ConcurrentQueue<BatchAppendReq> outbox = new();
        private int writing;
        private readonly TaskCompletionSource<Exception> ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly object gate = new();
        private volatile Exception? failure;

        public Session(AsyncDuplexStreamingCall<BatchAppendReq, BatchAppendResp> call, Func<Exception, Exception> translate)
        {
            this.call = call;
            this.translate = translate;
            _ = Task.Run(Read);
        }

        /// <summary>Why the call ended (translated); null while it runs.</summary>
        public Exception? Failure => failure;

        /// <summary>Registers an append awaiting its answer, or null when the call has already failed.</summary>
        public TaskCompletionSource<BatchAppendResp>? Expect(Guid id)
        {
            lock (gate)
            {
                if (failure is not null) return null;
                var answer = new TaskCompletionSource<BatchAppendResp>(TaskCreationOptions.RunContinuationsAsynchronously);
                pending[id] = answer;
                return answer;
            }
        }

        public void Forget(Guid id) => pending.TryRemove(id, out _);

        /// <summary>
        /// Queues one request and sends it. Writes on a call must not overlap: whoever finds no write running sends
        /// everything queued, each but the last with <see cref="WriteFlags.BufferHint"/>, so concurrent appends share
        /// flushes. A failed write fails the call (and so every append waiting on it).
        /// </summary>
        public async Task Write(BatchAppendReq request)
        {
            outbox.Enqueue(request);
            while (Interlocked.CompareExchange(ref writing, 1, 0) == 0)
            {
                try
                {
                    while (outbox.TryDequeue(out var next))
                    {
                        call.RequestStream.WriteOptions = outbox.IsEmpty ? null : Buffered;
                        // Not the caller's token: a cancelled write would cancel the whole call for everyone.
                        await call.RequestStream.WriteAsync(next, CancellationToken.None);
                    }
                }
                catch (Exception e)
                {
                    // The call ended under us; its status (seen by the reader) tells why, e.g. Unimplemented or not-leader.
                    var reason = await Task.WhenAny(ended.Task, Task.Delay(TimeSpan.FromSeconds(2), CancellationToken.None)) == ended.Task
                        ? ended.Task.Result : e;
                    Fail(reason);
                    return; // the call is dead: "writing" stays taken
                }
                Volatile.Write(ref writing, 0);
                if (outbox.IsEmpty) return; // else a request queued after the last look: send it (unless another writer does)
            }
        }

        private async Task Read()
        {
            Exception error;
            try
            {
                var responses = call.ResponseStream;
                while (await responses.MoveNext(CancellationToken.None))
                {
                    var answer = responses.Current;
                    if (pending.TryRemove(Wire.ToGuid(answer.CorrelationId), out var waiting)) waiting.TrySetResult(answer);
                }
                error = new RpcException(new Status(StatusCode.Unavailable, "EventStoreDB ended the BatchAppend call."));
            }
            catch (Exception e) { error = e; }
            ended.TrySetResult(error);
            Fail(error);
        }

        /// <summary>Ends the call: every append still waiting fails with the (translated) reason; later ones open a new call.</summary>
        public void Fail(Exception reason)
        {
            Exception translated;
            lock (gate)
            {
                if (failure is not null) return;
                failure = translated = reason is ObjectDisposedException ? reason : translate(reason);
            }
            ended.TrySetResult(reason);
            foreach (var id in pending.Keys)
                if (pending.TryRemove(id, out var waiting)) waiting.TrySetException(translated);
            try { call.Dispose(); } catch (Exception) { /* already gone */ }
        }
    }

    // ---------------------------------------------------------------- answers

    /// <summary>
    /// The answer to one append in the form of unary Append's, so both paths share one mapping: success and wrong
    /// expected version become the <see cref="AppendResp"/> fields; other errors become the <see cref="RpcException"/>
    /// unary Append would have thrown (a commit, prepare or forward timeout, which BatchAppend answers <c>Timeout</c>,
    /// becomes the retriable <c>Aborted "Operation timed out ..."</c>).
    /// </summary>
    public static AppendResp ToAppendResp(BatchAppendResp answer)
    {
        if (answer.ResultCase == BatchAppendResp.ResultOneofCase.Success)
        {
            var s = answer.Success;
            var success = new AppendResp.Types.Success();
            if (s.CurrentRevisionOptionCase == BatchAppendResp.Types.Success.CurrentRevisionOptionOneofCase.CurrentRevision)
                success.CurrentRevision = s.CurrentRevision;
            else success.NoStream = Wire.Empty;
            if (s.PositionOptionCase == BatchAppendResp.Types.Success.PositionOptionOneofCase.Position)
                success.Position = new AppendResp.Types.Position
                    { CommitPosition = s.Position.CommitPosition, PreparePosition = s.Position.PreparePosition };
            else success.NoPosition = Wire.Empty;
            return new AppendResp { Success = success };
        }
        if (answer.ResultCase != BatchAppendResp.ResultOneofCase.Error)
            throw new RpcException(new Status(StatusCode.Unknown, "EventStoreDB answered a batch append with neither success nor error."));

        var error = answer.Error;
        var details = error.Details;
        var stream = answer.StreamIdentifier?.StreamName.ToStringUtf8() ?? "";
        if (details is not null && details.TryUnpack<WrongExpectedVersion>(out var wrong))
        {
            var w = new AppendResp.Types.WrongExpectedVersion();
            if (wrong.CurrentStreamRevisionOptionCase == WrongExpectedVersion.CurrentStreamRevisionOptionOneofCase.CurrentStreamRevision)
                w.CurrentRevision = wrong.CurrentStreamRevision;
            else w.CurrentNoStream = Wire.Empty;
            switch (wrong.ExpectedStreamPositionOptionCase)
            {
                case WrongExpectedVersion.ExpectedStreamPositionOptionOneofCase.ExpectedStreamPosition:
                    w.ExpectedRevision = wrong.ExpectedStreamPosition; break;
                case WrongExpectedVersion.ExpectedStreamPositionOptionOneofCase.ExpectedNoStream: w.ExpectedNoStream = Wire.Empty; break;
                case WrongExpectedVersion.ExpectedStreamPositionOptionOneofCase.ExpectedStreamExists: w.ExpectedStreamExists = Wire.Empty; break;
                default: w.ExpectedAny = Wire.Empty; break;
            }
            return new AppendResp { WrongExpectedVersion = w };
        }
        if (details is not null && details.Is(Protocol.Errors.Timeout.Descriptor) || error.Code == Code.DeadlineExceeded)
            throw new RpcException(new Status(StatusCode.Aborted,
                $"Operation timed out: EventStoreDB answered the batch append {error.Message} (its commit, prepare or forward timeout)"));
        if (details is not null && details.TryUnpack<MaximumAppendSizeExceeded>(out var tooBig))
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"Maximum Append Size of {tooBig.MaxAppendSize} Exceeded."),
                new Metadata { { "exception", "maximum-append-size-exceeded" }, { "maximum-append-size", tooBig.MaxAppendSize.ToString() } });
        if (details is not null && details.TryUnpack<BadRequest>(out var bad))
            throw new RpcException(new Status(StatusCode.InvalidArgument, bad.Message));
        if (details is not null && details.Is(StreamDeleted.Descriptor))
            throw new RpcException(new Status(StatusCode.FailedPrecondition, $"Event stream '{stream}' is deleted."),
                new Metadata { { "exception", "stream-deleted" }, { "stream-name", stream } });
        if (details is not null && details.Is(AccessDenied.Descriptor) || error.Code == Code.PermissionDenied)
            throw new RpcException(new Status(StatusCode.PermissionDenied, "Access Denied"));
        // "Server Is Not Ready" and "Server Is Busy" come with code 0 (OK) and empty details: unary Append says Unavailable.
        if (error.Code == Code.Ok)
            throw new RpcException(new Status(StatusCode.Unavailable, error.Message));
        throw new RpcException(new Status((StatusCode)(int)error.Code, error.Message));
    }
}
