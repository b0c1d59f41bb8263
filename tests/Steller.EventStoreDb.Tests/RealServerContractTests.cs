using NUnit.Framework;
using Steller.Application.EventStore;
using Steller.EventStore.Contract;
using Steller.Infrastructure.EventStoreDb;

namespace Steller.EventStoreDb.Tests;

/// <summary>
/// The shared event store contract against a real EventStoreDB named by STELLER_ESDB_CONNECTION
/// (e.g. esdb://127.0.0.1:2113?tls=false; see eventstore.compose.yml). Skipped when it is not set.
/// </summary>
[TestFixture]
public sealed class RealServerContractTests : EventStoreContract
{
    public const string Variable = "STELLER_ESDB_CONNECTION";
    private EventStoreDbEventStore? store;

    protected override Task<IEventStore> CreateStore()
    {
        var connection = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrWhiteSpace(connection))
            Assert.Ignore($"{Variable} is not set: no EventStoreDB server to test against");
        // The suite writes "test-" streams; Steller's own prefixes are in the log anyway.
        store = new EventStoreDbEventStore(connection!, new EventStoreDbOptions { StreamPrefixes = ["test-"] });
        return Task.FromResult<IEventStore>(store);
    }

    protected override Task DisposeStore()
    {
        store?.Dispose();
        return Task.CompletedTask;
    }
}
