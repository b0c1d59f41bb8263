using NUnit.Framework;
using Steller.Application.EventStore;
using Steller.EventStore.Contract;
using Steller.EventStoreDb.Tests.Fake;
using Steller.Infrastructure.EventStoreDb;

namespace Steller.EventStoreDb.Tests;

/// <summary>The shared event store contract, against the adapter talking HTTP/2 to the in-process fake server.</summary>
[TestFixture]
public sealed class FakeServerContractTests : EventStoreContract
{
    private FakeEventStoreServer server = null!;
    private EventStoreDbEventStore store = null!;

    protected override async Task<IEventStore> CreateStore()
    {
        server = await FakeEventStoreServer.Start();
        store = new EventStoreDbEventStore(server.ConnectionString);
        return store;
    }

    protected override async Task DisposeStore()
    {
        store?.Dispose();
        if (server is not null) await server.DisposeAsync();
    }
}
