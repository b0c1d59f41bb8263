using NUnit.Framework;
using Steller.Application.EventStore;
using Steller.EventStore.Contract;
using Steller.EventStoreDb.Tests.Fake;
using Steller.Infrastructure.EventStoreDb;

namespace Steller.EventStoreDb.Tests;

/// <summary>
/// The shared event store contract, against the adapter talking HTTP/2 to the in-process fake server, with a commit
/// phase: a duplicate event id arriving before the first write commits is dropped and answered Aborted, as on a real server.
/// </summary>
[TestFixture]
public sealed class FakeServerContractTests : EventStoreContract
{
    private FakeEventStoreServer server = null!;
    private EventStoreDbEventStore store = null!;

    protected override async Task<IEventStore> CreateStore()
    {
        server = await FakeEventStoreServer.Start();
        server.Log.CommitDelay = TimeSpan.FromMilliseconds(25);
        server.Log.CommitTimeout = TimeSpan.FromMilliseconds(200);
        store = new EventStoreDbEventStore(server.ConnectionString, new EventStoreDbOptions { StreamPrefixes = ["test-"] });
        return store;
    }

    protected override async Task DisposeStore()
    {
        store?.Dispose();
        if (server is not null) await server.DisposeAsync();
    }
}
