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

namespace Steller.EventStoreDb.Tests;

/// <summary>
/// A duplicate event id arriving while the first write is not yet committed: the real server decides IdempotentNotReady,
/// drops the write and answers Aborted at its commit timeout (unary Append) or Timeout (BatchAppend); the adapter
/// retries such appends on either path.
/// </summary>
[TestFixture(true)]
[TestFixture(false)]
public sealed class DuplicateAppendTests(bool batchAppend) : OnFakeServer
{
    private EventStoreDbEventStore Store(int attempts = 10) => new(server.ConnectionString, new EventStoreDbOptions
    {
        BatchAppend = batchAppend,
        AppendAttempts = attempts,
        AppendRetryDelay = TimeSpan.FromMilliseconds(20),
    });

    [Test]
    public async Task the_fake_drops_a_duplicate_that_arrives_before_the_first_write_commits_and_answers_aborted_at_the_commit_timeout()
    {
        server.Log.CommitDelay = TimeSpan.FromMilliseconds(1_500);
        server.Log.CommitTimeout = TimeSpan.FromMilliseconds(300);
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{server.Port}");
        var raw = new Streams.StreamsClient(channel);
        var stream = Events.Stream();
        var id = Guid.NewGuid();

        var first = RawAppend(raw, stream, id);
        await Eventually.True(() => Task.FromResult(server.Log.Stream(stream) is not null), TimeSpan.FromSeconds(5), "the first write is in");
        var clock = Stopwatch.StartNew();
        var duplicate = () => RawAppend(raw, stream, id);

        var error = (await duplicate.Should().ThrowAsync<RpcException>()).Which;
        error.StatusCode.Should().Be(StatusCode.Aborted);
        error.Status.Detail.Should().Be("Operation timed out: Commit phase timeout.");
        clock.Elapsed.Should().BeGreaterThan(TimeSpan.FromMilliseconds(250), "the server answers only at its commit timeout");
        server.Log.DroppedNotReady.Should().Be(1);

        var original = await first;
        original.Success.Should().NotBeNull();
        (await RawAppend(raw, stream, id)).Should().Be(original, "once committed, a retry returns the first write's result");
        server.Log.Stream(stream).Should().ContainSingle();
    }

    [Test]
    public async Task a_duplicate_submitted_while_the_first_write_commits_is_retried_and_gets_the_first_result()
    {
        server.Log.CommitDelay = TimeSpan.FromMilliseconds(800);
        server.Log.CommitTimeout = TimeSpan.FromMilliseconds(100);
        using var store = Store();
        var stream = Events.Stream();
        var e = Events.Make();

        var first = store.Append(stream, ExpectedRevision.Any, [e]);
        await Eventually.True(() => Task.FromResult(server.Log.Stream(stream) is not null), TimeSpan.FromSeconds(5), "the first write is in");
        var second = await store.Append(stream, ExpectedRevision.Any, [e]);

        second.Should().Be(await first);
        server.Log.DroppedNotReady.Should().BeGreaterThan(0, "the duplicate arrived before the first write committed");
        server.Log.Stream(stream).Should().ContainSingle();
    }

    [Test]
    public async Task an_append_whose_commit_timed_out_after_writing_is_retried_and_stored_once()
    {
        using var store = Store();
        var stream = Events.Stream();
        var batch = Events.Many(2);
        server.Log.AbortNextAppends(2, written: true);

        var result = await store.Append(stream, ExpectedRevision.NoStream, batch);

        var stored = server.Log.Stream(stream)!;
        stored.Select(r => r.Id).Should().Equal(batch.Select(e => e.EventId));
        result.CurrentRevision.Should().Be(new StreamRevision(1));
        result.Position.Should().Be(new LogPosition(stored[1].Position, stored[1].Position));
    }

    [Test]
    public async Task aborted_appends_are_retried_a_bounded_number_of_times_then_fail_as_a_timeout()
    {
        using var store = Store(attempts: 3);
        var stream = Events.Stream();
        server.Log.AbortNextAppends(5, written: false);

        var act = () => store.Append(stream, ExpectedRevision.Any, [Events.Make()]);

        (await act.Should().ThrowAsync<TimeoutException>()).WithMessage($"*'{stream}' in 3 attempt(s) (Operation timed out*safe*");
        server.Log.TakeInjectedAbort().Should().Be(FakeLog.InjectedAbort.BeforeWriting, "two of the five aborts are left");
        server.Log.TakeInjectedAbort().Should().Be(FakeLog.InjectedAbort.BeforeWriting);
        server.Log.TakeInjectedAbort().Should().Be(FakeLog.InjectedAbort.None);
        server.Log.Stream(stream).Should().BeNull();
    }

    [Test]
    public async Task with_one_attempt_the_servers_commit_timeout_is_not_retried()
    {
        using var store = Store(attempts: 1);
        server.Log.AbortNextAppends(1, written: false);
        var act = () => store.Append(Events.Stream(), ExpectedRevision.Any, [Events.Make()]);
        (await act.Should().ThrowAsync<TimeoutException>()).WithMessage("*in 1 attempt(s)*");
        server.Log.TakeInjectedAbort().Should().Be(FakeLog.InjectedAbort.None);
    }

    private static async Task<AppendResp> RawAppend(Streams.StreamsClient raw, string stream, Guid id)
    {
        using var call = raw.Append();
        await call.RequestStream.WriteAsync(new AppendReq { Options = new AppendReq.Types.Options { StreamIdentifier = Wire.Stream(stream), Any = Wire.Empty } });
        await call.RequestStream.WriteAsync(new AppendReq { ProposedMessage = new AppendReq.Types.ProposedMessage
        {
            Id = Wire.ToUuid(id),
            Metadata = { ["type"] = "test.happened.v1", ["content-type"] = "application/json" },
            CustomMetadata = ByteString.CopyFrom(EventMetadataJson.Serialize(Events.Metadata())),
            Data = ByteString.CopyFromUtf8("{}"),
        } });
        await call.RequestStream.CompleteAsync();
        return await call.ResponseAsync;
    }
}
