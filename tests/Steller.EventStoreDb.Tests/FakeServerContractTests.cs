using NUnit.Framework;
using Steller.Application.EventStore;
using Steller.EventStore.Contract;
using Steller.EventStoreDb.Tests.Fake;
using Steller.Infrastructure.EventStoreDb;

namespace Steller.EventStoreDb.Tests;

/// <summary>
/// The shared event store contract, against the adapter talking HTTP/2 to the in-process fake server, with a commit
/// phase: a duplicate event id arriving before the first write commits is dropped and answered Aborted (Timeout on
/// BatchAppend), as on a real server. Run twice: over BatchAppend, and with the fake answering BatchAppend
/// Unimplemented (a server before 21.10), so every append falls back to unary Append.
/// </summary>
[TestFixture(true)]
[TestFixture(false)]
public sealed class FakeServerContractTests(bool batchAppend) : EventStoreContract
{
    private FakeEventStoreServer server = null!;
    private EventStoreDbEventStore store = null!;

    protected override async Task<IEventStore> CreateStore()
    {
        server = await FakeEventStoreServer.Start();
        server.Log.CommitDelay = TimeSpan.FromMilliseconds(25);
        server.Log.CommitTimeout = TimeSpan.FromMilliseconds(200);
        server.Node.BatchAppendUnimplemented = !batchAppend;
        store = new EventStoreDbEventStore(server.ConnectionString, new EventStoreDbOptions { StreamPrefixes = ["test-"] });
        return store;
    }

    protected override async Task DisposeStore()
    {
        store?.Dispose();
        if (server is not null) await server.DisposeAsync();
    }
}
