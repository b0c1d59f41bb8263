using System.Text;
using FluentAssertions;
using Grpc.Core;
using NUnit.Framework;
using Steller.Application.EventStore;
using Steller.EventStoreDb.Tests.Fake;
using Steller.Infrastructure.EventStoreDb;
using Steller.Testing;

namespace Steller.EventStoreDb.Tests;

/// <summary>TLS and basic credentials from the connection string, on the wire.</summary>
public sealed class TransportTests
{
    [Test]
    public async Task tls_with_a_self_signed_certificate_works_when_verification_is_off_and_fails_when_on()
    {
        await using var server = await FakeEventStoreServer.Start(tls: true);
        using (var store = new EventStoreDbEventStore($"esdb://127.0.0.1:{server.Port}?tls=true&tlsVerifyCert=false"))
        {
            var stream = Events.Stream();
            await store.Append(stream, ExpectedRevision.NoStream, Events.Many(2));
            (await store.ReadStream(stream)).Events.Should().HaveCount(2);
        }

        using var verifying = new EventStoreDbEventStore($"esdb://127.0.0.1:{server.Port}?tls=true");
        var act = () => verifying.Append(Events.Stream(), ExpectedRevision.Any, [Events.Make()]);
        (await act.Should().ThrowAsync<System.Security.Authentication.AuthenticationException>()).WithMessage("*TLS handshake*tlsVerifyCert=false*");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var subscribe = async () => { await foreach (var _ in verifying.SubscribeToAll(LogPosition.Start, cts.Token)) { } };
        await subscribe.Should().ThrowAsync<System.Security.Authentication.AuthenticationException>("retrying cannot fix an untrusted certificate");
    }

    [Test]
    public async Task basic_credentials_go_with_every_call_and_bad_ones_are_an_unauthorized_error()
    {
        await using var server = await FakeEventStoreServer.Start(tls: true);
        var expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("admin:chan:ge@it"));
        server.Log.RequiredAuthorization = expected;

        using var store = new EventStoreDbEventStore($"esdb://admin:chan:ge%40it@127.0.0.1:{server.Port}?tls=true&tlsVerifyCert=false");
        var stream = Events.Stream();
        await store.Append(stream, ExpectedRevision.NoStream, [Events.Make()]);
        server.Log.LastAuthorization.Should().Be(expected);
        (await store.ReadStream(stream)).Events.Should().ContainSingle();

        using var wrong = new EventStoreDbEventStore($"esdb://admin:nope@127.0.0.1:{server.Port}?tls=true&tlsVerifyCert=false");
        var append = () => wrong.Append(Events.Stream(), ExpectedRevision.Any, [Events.Make()]);
        (await append.Should().ThrowAsync<UnauthorizedAccessException>()).WithMessage("*EventStore:ConnectionString*");
        var read = () => wrong.ReadAll(LogPosition.Start, 10);
        await read.Should().ThrowAsync<UnauthorizedAccessException>();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var subscribe = async () => { await foreach (var _ in wrong.SubscribeToAll(LogPosition.Start, cts.Token)) { } };
        await subscribe.Should().ThrowAsync<UnauthorizedAccessException>("retrying cannot fix bad credentials");
    }

    [Test]
    public async Task an_insecure_node_gets_no_authorization_header()
    {
        await using var server = await FakeEventStoreServer.Start();
        using var store = new EventStoreDbEventStore(server.ConnectionString);
        await store.Append(Events.Stream(), ExpectedRevision.NoStream, [Events.Make()]);
        server.Log.LastAuthorization.Should().BeNull();
    }
}
