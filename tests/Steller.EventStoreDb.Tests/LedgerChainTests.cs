using System.Text;
using FluentAssertions;
using Microsoft.Extensions.Logging.Abstractions;
using NUnit.Framework;
using Steller.Application.EventStore;
using Steller.Infrastructure.Configuration;
using Steller.Infrastructure.EventStoreDb;
using Steller.Projections.Chain;
using Steller.Projections.Engine;
using Steller.Testing;

namespace Steller.EventStoreDb.Tests;

/// <summary>With EventStoreDB the hash chain is kept the same way, over $all positions, and stored in PostgreSQL.</summary>
public sealed class LedgerChainTests : OnFakeServer
{
    [Test, CancelAfter(120_000)]
    public async Task the_same_events_give_the_same_chain_on_eventstoredb_as_on_postgresql_and_it_verifies()
    {
        await using var esdbChainDb = await TestDatabase.Create("chainesdb");
        await using var pgDb = await TestDatabase.Create("chainesdbpg");
        using var esdb = new EventStoreDbEventStore(server.ConnectionString, new EventStoreDbOptions { StreamPrefixes = ["wallet-"] });
        var pg = pgDb.CreateEventStore();
        var at = new DateTimeOffset(2026, 12, 1, 9, 30, 0, TimeSpan.Zero).AddTicks(1234567); // below a microsecond too
        for (var i = 0; i < 12; i++)
        {
            var stream = $"wallet-e{i % 3}-EUR";
            var e = new EventData(Guid.NewGuid(), "wallet.deposited.v1", Encoding.UTF8.GetBytes($$"""{"transferId":"t-{{i}}","amount":{{100 + i}},"reference":"é"}"""),
                new EventMetadata($"corr-{i}", $"cmd-{i}", Guid.NewGuid(), "admin:finance", at.AddSeconds(i)));
            await esdb.Append(stream, ExpectedRevision.Any, [e]);
            await pg.Append(stream, ExpectedRevision.Any, [e]);
        }

        var esdbChain = new ChainStore(esdbChainDb.DataSource);
        var esdbLog = new EventStoreChainLog(esdb);
        var settings = new ProjectionSettings(true, 100, 1000);
        (await new ChainSealer(esdbLog, esdbChain, new LogTail(esdb), esdb, settings, NullLogger<ChainSealer>.Instance)
            .SealAvailable(CancellationToken.None)).Should().Be(12);
        var pgChain = new ChainStore(pgDb.DataSource);
        await new ChainSealer(new PostgresChainLog(pgDb.DataSource), pgChain, new LogTail(pg), pg, settings, NullLogger<ChainSealer>.Instance)
            .SealAvailable(CancellationToken.None);

        var esdbHead = (await esdbChain.Head(default))!;
        var pgHead = (await pgChain.Head(default))!;
        esdbHead.Sequence.Should().Be(12);
        esdbHead.HashHex.Should().Be(pgHead.HashHex, "the canonical bytes do not depend on the backend");
        var last = (await esdb.ReadAll(LogPosition.Start, 100)).Last();
        esdbHead.Position.Should().Be(last.Position, "the links name $all positions");

        var verified = await new ChainVerifier(esdbLog, esdbChain).Verify();
        verified.Intact.Should().BeTrue(verified.Break?.Message);
        verified.EventsChecked.Should().Be(12);
        verified.Hash.Should().Be(esdbHead.HashHex);
    }
}
