using System.Text;
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

/// <summary>Client-side validation, error mapping and wire details of the adapter, against the fake.</summary>
public sealed class AdapterTests
{
    private FakeEventStoreServer server = null!;
    private EventStoreDbEventStore store = null!;

    [OneTimeSetUp]
    public async Task StartServer()
    {
        server = await FakeEventStoreServer.Start();
        store = new EventStoreDbEventStore(server.ConnectionString);
    }

    [OneTimeTearDown]
    public async Task StopServer()
    {
        store.Dispose();
        await server.DisposeAsync();
    }

    private static EventData Sized(int bytes) => Events.Make(json: $$"""{"pad":"{{new string('x', bytes - 10)}}"}""");

    // ---- client-side validation: everything the server would take silently or refuse without a reason ----

    [Test]
    public async Task a_batch_over_the_append_size_limit_is_refused_before_sending()
    {
        var stream = Events.Stream();
        var batch = Enumerable.Range(0, 5).Select(_ => Sized(250_000)).ToArray(); // ~1.25 MB
        var act = () => store.Append(stream, ExpectedRevision.Any, batch);
        (await act.Should().ThrowAsync<InvalidAppendException>()).WithMessage("*over EventStoreDB's maximum append size of 1,048,576 bytes*Split*");
        server.Log.Stream(stream).Should().BeNull("nothing was sent");

        await store.Append(stream, ExpectedRevision.Any, batch.Take(3).ToArray()); // ~750 KB fits
    }

    [Test]
    public async Task the_append_size_limit_is_configurable()
    {
        using var small = new EventStoreDbEventStore(server.ConnectionString, new EventStoreDbOptions { MaxAppendSizeBytes = 10_000 });
        var act = () => small.Append(Events.Stream(), ExpectedRevision.Any, [Sized(20_000)]);
        (await act.Should().ThrowAsync<InvalidAppendException>()).WithMessage("*10,000 bytes*");
    }

    [Test]
    public async Task the_servers_own_size_refusal_is_an_invalid_append_with_its_reason()
    {
        // The client allows more than the server: the server's InvalidArgument trailers carry the reason.
        var limit = server.Log.MaxAppendSize;
        server.Log.MaxAppendSize = 50_000;
        try
        {
            using var generous = new EventStoreDbEventStore(server.ConnectionString, new EventStoreDbOptions { MaxAppendSizeBytes = 4_000_000 });
            var stream = Events.Stream();
            var act = () => generous.Append(stream, ExpectedRevision.Any, Enumerable.Range(0, 40).Select(_ => Sized(20_000)).ToArray());
            (await act.Should().ThrowAsync<InvalidAppendException>()).WithMessage("*maximum append size of 50000 bytes (maximum-append-size-exceeded)*");
            server.Log.Stream(stream).Should().BeNull();
        }
        finally { server.Log.MaxAppendSize = limit; }
    }

    [TestCase("$all")]
    [TestCase("$ce-wallet")]
    [TestCase("")]
    public async Task reserved_or_empty_stream_names_never_reach_the_server(string stream)
    {
        var before = server.Log.Count;
        var act = () => store.Append(stream, ExpectedRevision.Any, [Events.Make()]);
        await act.Should().ThrowAsync<InvalidAppendException>();
        server.Log.Count.Should().Be(before);
    }

    [Test]
    public async Task missing_ids_and_duplicate_ids_in_one_batch_are_refused_before_sending()
    {
        var stream = Events.Stream();
        var e = Events.Make();
        var twice = () => store.Append(stream, ExpectedRevision.Any, [e, e]);
        (await twice.Should().ThrowAsync<InvalidAppendException>()).WithMessage("*twice*");
        var noId = () => store.Append(stream, ExpectedRevision.Any, [Events.Make() with { EventId = Guid.Empty }]);
        (await noId.Should().ThrowAsync<InvalidAppendException>()).WithMessage("*no event id*");
        server.Log.Stream(stream).Should().BeNull();
    }

    // ---- error mapping ----

    [Test]
    public async Task wrong_expected_version_carries_the_actual_revision_or_null_for_no_stream()
    {
        var stream = Events.Stream();
        var missing = () => store.Append(stream, ExpectedRevision.StreamExists, [Events.Make()]);
        var e1 = (await missing.Should().ThrowAsync<WrongExpectedRevisionException>()).Which;
        e1.ActualRevision.Should().BeNull();
        e1.Expected.Should().Be(ExpectedRevision.StreamExists);
        e1.StreamId.Should().Be(stream);

        await store.Append(stream, ExpectedRevision.NoStream, Events.Many(4));
        var stale = () => store.Append(stream, ExpectedRevision.Exact(7), [Events.Make()]);
        (await stale.Should().ThrowAsync<WrongExpectedRevisionException>()).Which.ActualRevision.Should().Be(new StreamRevision(3));
    }

    [Test]
    public async Task a_retry_at_a_later_exact_revision_finds_the_original_append_and_a_partial_one_does_not()
    {
        var stream = Events.Stream();
        var batch = Events.Many(2);
        var original = await store.Append(stream, ExpectedRevision.NoStream, batch);
        await store.Append(stream, ExpectedRevision.Exact(1), Events.Many(3));

        (await store.Append(stream, ExpectedRevision.Exact(3), batch)).Should().Be(original, "the server refuses it; the adapter finds the batch");
        var partial = () => store.Append(stream, ExpectedRevision.Exact(3), [batch[0], Events.Make()]);
        await partial.Should().ThrowAsync<WrongExpectedRevisionException>();

        using var noSearch = new EventStoreDbEventStore(server.ConnectionString, new EventStoreDbOptions { IdempotencySearchWindow = 0 });
        var plain = () => noSearch.Append(stream, ExpectedRevision.Exact(3), batch);
        await plain.Should().ThrowAsync<WrongExpectedRevisionException>("without the search the server's answer stands");
        (await store.ReadStream(stream)).Events.Should().HaveCount(5);
    }

    [Test]
    public async Task cancellation_is_an_operation_canceled_exception_everywhere()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        var stream = Events.Stream();
        var append = () => store.Append(stream, ExpectedRevision.Any, [Events.Make()], cancelled.Token);
        await append.Should().ThrowAsync<OperationCanceledException>();
        var read = () => store.ReadStream(stream, ct: cancelled.Token);
        await read.Should().ThrowAsync<OperationCanceledException>();
        var all = () => store.ReadAll(LogPosition.Start, 10, cancelled.Token);
        await all.Should().ThrowAsync<OperationCanceledException>();
        server.Log.Stream(stream).Should().BeNull("a cancelled append writes nothing");
    }

    [Test]
    public async Task a_position_that_is_not_in_the_log_is_an_argument_error()
    {
        await store.Append(Events.Stream(), ExpectedRevision.NoStream, [Events.Make()]);
        var act = () => store.ReadAll(new LogPosition(7, 7), 10);
        await act.Should().ThrowAsync<ArgumentException>().WithMessage("*not in this EventStoreDB's log*");
    }

    [Test]
    public async Task subscribing_after_a_position_that_is_not_in_the_log_fails_instead_of_retrying_for_ever()
    {
        await store.Append(Events.Stream(), ExpectedRevision.NoStream, [Events.Make()]);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var act = async () => { await foreach (var _ in store.SubscribeToAll(new LogPosition(7, 7), cts.Token)) { } };
        await act.Should().ThrowAsync<ArgumentException>().WithMessage("*7/7*not a position*");
    }

    [Test]
    public async Task an_event_larger_than_the_client_accepts_names_the_setting()
    {
        var stream = Events.Stream();
        await store.Append(stream, ExpectedRevision.NoStream, [Sized(60_000)]);
        using var small = new EventStoreDbEventStore(server.ConnectionString, new EventStoreDbOptions { MaxAppendSizeBytes = 10_000, MaxReceiveMessageSize = 20_000 });
        var act = () => small.ReadStream(stream);
        await act.Should().ThrowAsync<InvalidOperationException>().WithMessage("*MaxReceiveMessageSize*");
    }

    [Test]
    public async Task an_unreachable_server_fails_with_unavailable()
    {
        using var nowhere = new EventStoreDbEventStore("esdb://127.0.0.1:1?tls=false");
        var act = () => nowhere.Append(Events.Stream(), ExpectedRevision.Any, [Events.Make()]);
        (await act.Should().ThrowAsync<RpcException>()).Which.StatusCode.Should().Be(StatusCode.Unavailable);
    }

    [Test]
    public async Task events_written_by_other_tools_to_their_own_streams_never_reach_stellers_log()
    {
        // Another application writes to the same server, with its own metadata.
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{server.Port}");
        var raw = new Streams.StreamsClient(channel);
        using (var call = raw.Append())
        {
            await call.RequestStream.WriteAsync(new AppendReq { Options = new AppendReq.Types.Options { StreamIdentifier = Wire.Stream("foreign-1"), Any = Wire.Empty } });
            await call.RequestStream.WriteAsync(new AppendReq { ProposedMessage = new AppendReq.Types.ProposedMessage
            {
                Id = Wire.ToUuid(Guid.NewGuid()),
                Metadata = { ["type"] = "SomethingHappened", ["content-type"] = "application/json" },
                CustomMetadata = ByteString.CopyFromUtf8("not json"),
                Data = ByteString.CopyFromUtf8("{}"),
            } });
            await call.RequestStream.CompleteAsync();
            (await call.ResponseAsync).ResultCase.Should().Be(AppendResp.ResultOneofCase.Success);
        }

        await store.Append(Events.Stream("order"), ExpectedRevision.NoStream, [Events.Make()]);
        (await store.ReadAll(LogPosition.Start, 10_000)).Should().NotBeEmpty().And.OnlyContain(e => e.StreamId.StartsWith("order-"),
            "the server filters $all down to Steller's streams");
        var direct = () => store.ReadStream("foreign-1");
        (await direct.Should().ThrowAsync<InvalidDataException>()).WithMessage("*foreign-1*no Steller metadata*");
    }

    [Test]
    public void event_ids_travel_in_the_structured_big_endian_form()
    {
        var id = Guid.Parse("00112233-4455-6677-8899-aabbccddeeff");
        var uuid = Wire.ToUuid(id);
        uuid.Structured.MostSignificantBits.Should().Be(0x0011223344556677);
        uuid.Structured.LeastSignificantBits.Should().Be(unchecked((long)0x8899aabbccddeeffUL));
        Wire.ToGuid(uuid).Should().Be(id);
        Wire.ToGuid(new UUID { String = id.ToString() }).Should().Be(id);
    }

    [Test]
    public async Task events_go_out_with_type_and_json_content_type_and_metadata_in_custom_metadata()
    {
        var stream = Events.Stream();
        var e = Events.Make("test.wired.v1", """{"k":"v"}""");
        await store.Append(stream, ExpectedRevision.NoStream, [e]);
        var stored = server.Log.Stream(stream)!.Single();
        stored.Type.Should().Be("test.wired.v1");
        stored.ContentType.Should().Be("application/json");
        stored.Id.Should().Be(e.EventId);
        Encoding.UTF8.GetString(stored.Data.Span).Should().Be("""{"k":"v"}""");
        EventMetadataJson.Deserialize(stored.CustomMetadata.Span).Should().Be(e.Metadata);
    }
}

/// <summary>
/// The fake's own behaviours that the adapter guards against (recorded from a real server in EVENTSTOREDB.md):
/// silent failures the adapter must never trigger.
/// </summary>
public sealed class FakeServerBehaviourTests
{
    [Test]
    public async Task silent_failures_are_a_bare_unknown_and_missing_metadata_has_a_trailer()
    {
        await using var server = await FakeEventStoreServer.Start();
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{server.Port}");
        var raw = new Streams.StreamsClient(channel);
        var proposed = new AppendReq.Types.ProposedMessage
        {
            Id = Wire.ToUuid(Guid.NewGuid()), Metadata = { ["type"] = "t", ["content-type"] = "application/json" }, Data = ByteString.CopyFromUtf8("{}"),
        };

        async Task<RpcException> Append(params AppendReq[] messages)
        {
            using var call = raw.Append();
            try
            {
                foreach (var m in messages) await call.RequestStream.WriteAsync(m);
                await call.RequestStream.CompleteAsync();
            }
            catch (RpcException) { }
            catch (InvalidOperationException) { }
            var act = async () => await call.ResponseAsync;
            return (await act.Should().ThrowAsync<RpcException>()).Which;
        }

        var options = new AppendReq { Options = new AppendReq.Types.Options { StreamIdentifier = Wire.Stream("s-1"), Any = Wire.Empty } };
        var beforeOptions = await Append(new AppendReq { ProposedMessage = proposed }, options);
        beforeOptions.StatusCode.Should().Be(StatusCode.Unknown);
        beforeOptions.Trailers.GetValue("exception").Should().BeNull();

        var noId = await Append(options, new AppendReq { ProposedMessage = new AppendReq.Types.ProposedMessage(proposed) { Id = null } });
        noId.StatusCode.Should().Be(StatusCode.Unknown);

        var noType = new AppendReq.Types.ProposedMessage(proposed);
        noType.Metadata.Remove("type");
        var missing = await Append(options, new AppendReq { ProposedMessage = noType });
        missing.StatusCode.Should().Be(StatusCode.InvalidArgument);
        missing.Trailers.GetValue("exception").Should().Be("missing-required-metadata-property");

        var read = async () =>
        {
            using var call = raw.Read(new ReadReq { Options = new ReadReq.Types.Options { All = new() { Start = Wire.Empty }, Count = 1, NoFilter = Wire.Empty } });
            await call.ResponseStream.MoveNext();
        };
        (await read.Should().ThrowAsync<RpcException>()).Which.StatusCode.Should().Be(StatusCode.Unknown, "a read without uuid_option");
        server.Log.Stream("s-1").Should().BeNull();
    }
}
