using System.Diagnostics;
using FluentAssertions;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using NUnit.Framework;
using Steller.Application.EventStore;
using Steller.EventStoreDb.Tests.Fake;
using Steller.Infrastructure.EventStoreDb;
using Steller.Infrastructure.EventStoreDb.Protocol;
using Steller.Testing;
using Errors = Steller.Infrastructure.EventStoreDb.Protocol.Errors;
using Rpc = Steller.Infrastructure.EventStoreDb.Protocol.Rpc;
using WellKnown = Google.Protobuf.WellKnownTypes;

namespace Steller.EventStoreDb.Tests;

/// <summary>
/// Appends over one long-lived BatchAppend call per node, as the official clients send them: multiplexed by
/// correlation id, each append with its own outcome, unary Append where the server lacks BatchAppend, and a broken
/// call failing only the appends in flight (retriably).
/// </summary>
public sealed class BatchAppendTests : OnFakeServer
{
    private readonly List<EventStoreDbEventStore> stores = [];

    [TearDown]
    public void DisposeStores()
    {
        foreach (var s in stores) s.Dispose();
        stores.Clear();
    }

    private EventStoreDbEventStore Store(EventStoreDbOptions? options = null, string? connection = null)
    {
        var store = new EventStoreDbEventStore(connection ?? server.ConnectionString, options ?? new EventStoreDbOptions
        {
            AppendRetryDelay = TimeSpan.FromMilliseconds(20),
        });
        stores.Add(store);
        return store;
    }

    [Test]
    public async Task many_appends_share_one_batch_append_call_instead_of_opening_an_append_call_each()
    {
        var store = Store();
        var streams = Enumerable.Range(0, 5).Select(_ => Events.Stream()).ToArray();

        for (var i = 0; i < 40; i++)
        {
            var stream = streams[i % streams.Length];
            var result = await store.Append(stream, i < streams.Length ? ExpectedRevision.NoStream : ExpectedRevision.Exact(i / streams.Length - 1),
                [Events.Make()]);
            result.CurrentRevision.Should().Be(new StreamRevision(i / streams.Length));
        }

        server.Node.BatchAppendCalls.Should().Be(1, "every append went over the one call");
        server.Node.UnaryAppendCalls.Should().Be(0);
        server.Node.AppendsAccepted.Should().Be(40);
        store.BatchAppendCallsOpened.Should().Be(1);
        foreach (var stream in streams) (await store.ReadStream(stream)).Events.Should().HaveCount(8);
    }

    [Test]
    public async Task concurrent_appends_to_several_streams_complete_with_their_own_outcomes_and_a_refusal_fails_only_its_own()
    {
        var store = Store();
        var streams = Enumerable.Range(0, 8).Select(_ => Events.Stream()).ToArray();
        foreach (var stream in streams) await store.Append(stream, ExpectedRevision.NoStream, Events.Many(2));
        server.Log.CommitDelay = TimeSpan.FromMilliseconds(100); // keep them in flight together

        var appends = streams.Select((stream, i) => i == 3
            ? store.Append(stream, ExpectedRevision.Exact(7), [Events.Make()]) // stale: the stream is at 1
            : store.Append(stream, ExpectedRevision.Exact(1), Events.Many(i + 1))).ToArray();
        try { await Task.WhenAll(appends); } catch (WrongExpectedRevisionException) { }

        var refused = appends[3].Exception!.InnerException.Should().BeOfType<WrongExpectedRevisionException>().Which;
        refused.ActualRevision.Should().Be(new StreamRevision(1));
        refused.StreamId.Should().Be(streams[3]);
        for (var i = 0; i < streams.Length; i++)
        {
            if (i == 3) continue;
            var result = await appends[i];
            result.CurrentRevision.Should().Be(new StreamRevision(1 + i + 1), $"stream {i} got its own answer");
            var stored = server.Log.Stream(streams[i])!;
            result.Position.Should().Be(new LogPosition(stored[^1].Position, stored[^1].Position));
        }
        server.Log.Stream(streams[3]).Should().HaveCount(2);
        server.Node.BatchAppendCalls.Should().Be(1, "the refusal was an answer on the call, not the end of it");
    }

    [Test]
    public async Task an_append_the_server_holds_back_does_not_delay_appends_to_other_streams_on_the_same_call()
    {
        server.Log.CommitDelay = TimeSpan.FromMilliseconds(300);
        server.Log.CommitTimeout = TimeSpan.FromMilliseconds(1_500);
        var store = Store(new EventStoreDbOptions { AppendAttempts = 1 });
        var held = Events.Stream();
        var e = Events.Make();
        var first = store.Append(held, ExpectedRevision.Any, [e]);
        await Eventually.True(() => Task.FromResult(server.Log.Stream(held) is not null), TimeSpan.FromSeconds(5), "the first write is in");
        // The same event again before it commits: dropped as IdempotentNotReady, answered Timeout only after 1.5 s.
        var duplicate = store.Append(held, ExpectedRevision.Any, [e]);

        var clock = Stopwatch.StartNew();
        await store.Append(Events.Stream(), ExpectedRevision.NoStream, [Events.Make()]);
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromMilliseconds(1_200), "answers come in completion order, not request order");

        await first;
        (await duplicate.Invoking(d => d).Should().ThrowAsync<TimeoutException>()).WithMessage("*in 1 attempt(s)*batch append Timeout*safe*");
        server.Node.BatchAppendCalls.Should().Be(1);
    }

    [Test]
    public async Task a_server_without_batch_append_gets_unary_appends_and_is_asked_only_once_per_connection()
    {
        server.Node.BatchAppendUnimplemented = true;
        var store = Store();
        var stream = Events.Stream();

        for (var i = 0; i < 5; i++)
            (await store.Append(stream, i == 0 ? ExpectedRevision.NoStream : ExpectedRevision.Exact(i - 1), [Events.Make()]))
                .CurrentRevision.Should().Be(new StreamRevision(i));
        var stale = () => store.Append(stream, ExpectedRevision.Exact(1), [Events.Make()]);
        (await stale.Should().ThrowAsync<WrongExpectedRevisionException>()).Which.ActualRevision.Should().Be(new StreamRevision(4));

        server.Node.UnimplementedAnswers.Should().Be(1, "the answer is remembered for the connection");
        server.Node.UnaryAppendCalls.Should().Be(6);
        server.Log.Stream(stream).Should().HaveCount(5, "the append that met Unimplemented was sent again, once");
    }

    [Test]
    public async Task with_batch_append_turned_off_every_append_is_a_unary_append_call()
    {
        var store = Store(new EventStoreDbOptions { BatchAppend = false });
        var stream = Events.Stream();
        await store.Append(stream, ExpectedRevision.NoStream, [Events.Make()]);
        await store.Append(stream, ExpectedRevision.Exact(0), [Events.Make()]);
        server.Node.UnaryAppendCalls.Should().Be(2);
        server.Node.BatchAppendCalls.Should().Be(0);
    }

    [Test]
    public async Task a_broken_call_fails_the_appends_in_flight_retriably_and_retrying_them_stores_each_once()
    {
        server.Log.CommitDelay = TimeSpan.FromMilliseconds(500);
        server.Log.CommitTimeout = TimeSpan.FromMilliseconds(200);
        var store = Store(new EventStoreDbOptions { AppendRetryDelay = TimeSpan.FromMilliseconds(50), AppendAttempts = 20 });
        await store.Append(Events.Stream(), ExpectedRevision.NoStream, [Events.Make()]); // the call is open
        var streams = Enumerable.Range(0, 5).Select(_ => Events.Stream()).ToArray();
        var batches = streams.Select(_ => Events.Many(2)).ToArray();

        var inFlight = streams.Select((s, i) => store.Append(s, ExpectedRevision.NoStream, batches[i])).ToArray();
        await Eventually.True(() => Task.FromResult(streams.All(s => server.Log.Stream(s) is not null)), TimeSpan.FromSeconds(5),
            "every append was written, none answered yet");
        server.Node.ResetBatchAppendCalls().Should().Be(1);

        foreach (var append in inFlight)
        {
            var error = (await append.Invoking(a => a).Should().ThrowAsync<RpcException>()).Which;
            error.StatusCode.Should().Be(StatusCode.Unavailable);
            error.Status.Detail.Should().Contain("may or may not have been written").And.Contain("same event ids is safe");
        }
        for (var i = 0; i < streams.Length; i++)
        {
            var retried = await store.Append(streams[i], ExpectedRevision.NoStream, batches[i]);
            var stored = server.Log.Stream(streams[i])!;
            stored.Select(r => r.Id).Should().Equal(batches[i].Select(e => e.EventId), "the retry returned the first write, not a second copy");
            retried.CurrentRevision.Should().Be(new StreamRevision(1));
            retried.Position.Should().Be(new LogPosition(stored[1].Position, stored[1].Position));
        }
        server.Node.BatchAppendCalls.Should().Be(2, "the next append after the break opened a new call");
    }

    [Test]
    public async Task an_append_unanswered_within_the_operation_timeout_fails_as_a_timeout_and_tells_the_server_its_deadline()
    {
        server.Log.CommitDelay = TimeSpan.FromSeconds(2);
        var store = Store(new EventStoreDbOptions { OperationTimeout = TimeSpan.FromMilliseconds(300) });
        var stream = Events.Stream();

        var act = () => store.Append(stream, ExpectedRevision.Any, [Events.Make()]);

        (await act.Should().ThrowAsync<TimeoutException>()).WithMessage($"*append to '{stream}' before its deadline*");
        server.Node.LastBatchAppendDeadline.Should().Be(TimeSpan.FromMilliseconds(300));
        server.Log.CommitDelay = TimeSpan.Zero;
        await Task.Delay(2_000); // the first commit finishes
        (await store.Append(Events.Stream(), ExpectedRevision.NoStream, [Events.Make()])).CurrentRevision.Value.Should().Be(0);
        server.Node.BatchAppendCalls.Should().Be(1, "a late answer does not end the call");
    }

    [Test]
    public async Task a_cancelled_append_leaves_the_call_to_the_others()
    {
        server.Log.CommitDelay = TimeSpan.FromMilliseconds(500);
        var store = Store();
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        var cancelled = () => store.Append(Events.Stream(), ExpectedRevision.Any, [Events.Make()], cts.Token);
        var other = store.Append(Events.Stream(), ExpectedRevision.NoStream, [Events.Make()]);

        await cancelled.Should().ThrowAsync<OperationCanceledException>();
        (await other).CurrentRevision.Value.Should().Be(0);
        server.Node.BatchAppendCalls.Should().Be(1);
    }

    [Test]
    public async Task the_fake_answers_raw_batch_appends_with_the_real_servers_corners()
    {
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{server.Port}");
        var raw = new Streams.StreamsClient(channel);
        using var call = raw.BatchAppend();
        var stream = Events.Stream();
        BatchAppendReq Request(Guid id, bool final, BatchAppendReq.Types.Options? options, params EventData[] events)
        {
            var r = new BatchAppendReq { CorrelationId = Wire.ToUuid(id), Options = options, IsFinal = final };
            foreach (var e in events) r.ProposedMessages.Add(Wire.ToBatch(Wire.Proposed(e)));
            return r;
        }
        BatchAppendReq.Types.Options Options(string s, long? revision = null, TimeSpan? deadline = null)
        {
            var o = new BatchAppendReq.Types.Options { StreamIdentifier = Wire.Stream(s) };
            if (revision is { } r) o.StreamPosition = (ulong)r; else o.NoStream = new WellKnown.Empty();
            if (deadline is { } d) o.Deadline = WellKnown.Duration.FromTimeSpan(d);
            return o;
        }
        async Task<BatchAppendResp> Next()
        {
            (await call.ResponseStream.MoveNext(CancellationToken.None)).Should().BeTrue();
            return call.ResponseStream.Current;
        }

        // One append over two requests: options and the first event, then the second event with is_final.
        var split = Guid.NewGuid();
        await call.RequestStream.WriteAsync(Request(split, false, Options(stream), Events.Make()));
        await call.RequestStream.WriteAsync(Request(split, true, null, Events.Make()));
        var success = await Next();
        Wire.ToGuid(success.CorrelationId).Should().Be(split);
        success.Success.CurrentRevision.Should().Be(1);
        success.StreamIdentifier.StreamName.ToStringUtf8().Should().Be(stream);
        success.ExpectedStreamPositionCase.Should().Be(BatchAppendResp.ExpectedStreamPositionOneofCase.None, "a 24.x server leaves it unset");

        // A request for a correlation id that was never opened gets no answer at all.
        await call.RequestStream.WriteAsync(Request(Guid.NewGuid(), true, null, Events.Make()));

        // Wrong expected version: an answer with a google.rpc.Status, not the call's status.
        var stale = Guid.NewGuid();
        await call.RequestStream.WriteAsync(Request(stale, true, Options(stream, revision: 5), Events.Make()));
        var wrong = await Next();
        Wire.ToGuid(wrong.CorrelationId).Should().Be(stale);
        wrong.Error.Code.Should().Be(Rpc.Code.AlreadyExists);
        wrong.Error.Message.Should().Be("WrongExpectedVersion");
        var details = wrong.Error.Details.Unpack<Errors.WrongExpectedVersion>();
        details.CurrentStreamRevision.Should().Be(1);
        details.ExpectedStreamPosition.Should().Be(5);

        // A deadline already past: Timeout at once, before anything is written.
        var late = Guid.NewGuid();
        await call.RequestStream.WriteAsync(Request(late, true, Options(Events.Stream(), deadline: TimeSpan.Zero), Events.Make()));
        var timeout = await Next();
        Wire.ToGuid(timeout.CorrelationId).Should().Be(late);
        timeout.Error.Code.Should().Be(Rpc.Code.DeadlineExceeded);
        timeout.Error.Details.Is(Errors.Timeout.Descriptor).Should().BeTrue();

        // An append whose is_final never comes: Timeout when min(deadline, the server's write timeout) passes.
        server.Log.CommitTimeout = TimeSpan.FromMilliseconds(200);
        var open = Guid.NewGuid();
        await call.RequestStream.WriteAsync(Request(open, false, Options(Events.Stream(), deadline: TimeSpan.FromMinutes(1)), Events.Make()));
        var expired = await Next();
        Wire.ToGuid(expired.CorrelationId).Should().Be(open);
        expired.Error.Message.Should().Be("Timeout");

        // Over the server's size limit: MaximumAppendSizeExceeded with the limit.
        server.Log.MaxAppendSize = 100;
        var big = Guid.NewGuid();
        await call.RequestStream.WriteAsync(Request(big, true, Options(Events.Stream()), Events.Make(json: $"{{\"x\":\"{new string('x', 200)}\"}}")));
        var tooBig = await Next();
        tooBig.Error.Code.Should().Be(Rpc.Code.InvalidArgument);
        tooBig.Error.Details.Unpack<Errors.MaximumAppendSizeExceeded>().MaxAppendSize.Should().Be(100);

        // The client completing its requests ends the call once every answer due is sent.
        await call.RequestStream.CompleteAsync();
        (await call.ResponseStream.MoveNext(CancellationToken.None)).Should().BeFalse();
        server.Log.Stream(stream).Should().HaveCount(2);
    }
}
