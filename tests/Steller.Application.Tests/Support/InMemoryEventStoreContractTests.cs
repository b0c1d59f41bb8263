using NUnit.Framework;
using Steller.Application.EventStore;
using Steller.EventStore.Contract;

namespace Steller.Application.Tests.Support;

/// <summary>The in-memory store the use case tests run on keeps the same contract as the real adapters.</summary>
[TestFixture]
public sealed class InMemoryEventStoreContractTests : EventStoreContract
{
    protected override Task<IEventStore> CreateStore() => Task.FromResult<IEventStore>(new InMemoryEventStore());
}
