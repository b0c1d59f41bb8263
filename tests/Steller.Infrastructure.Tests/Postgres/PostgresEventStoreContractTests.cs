using NUnit.Framework;
using Steller.Application.EventStore;
using Steller.EventStore.Contract;
using Steller.Testing;

namespace Steller.Infrastructure.Tests.Postgres;

/// <summary>The shared event store contract, against the PostgreSQL adapter on a real server.</summary>
[TestFixture]
public sealed class PostgresEventStoreContractTests : EventStoreContract
{
    private TestDatabase db = null!;

    protected override async Task<IEventStore> CreateStore()
    {
        db = await TestDatabase.Create("contract");
        return db.CreateEventStore();
    }

    protected override async Task DisposeStore() => await db.DisposeAsync();
}
