using NUnit.Framework;
using Steller.EventStoreDb.Tests.Fake;

namespace Steller.EventStoreDb.Tests;

/// <summary>Tests that each run against a fresh in-process fake EventStoreDB server.</summary>
public abstract class OnFakeServer
{
    private protected FakeEventStoreServer server = null!;

    [SetUp]
    public async Task StartServer() => server = await FakeEventStoreServer.Start();

    [TearDown]
    public async Task StopServer() => await server.DisposeAsync();
}
