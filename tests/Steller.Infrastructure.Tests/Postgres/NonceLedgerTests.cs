using FluentAssertions;
using NUnit.Framework;
using Steller.Infrastructure.Postgres;
using Steller.Testing;

namespace Steller.Infrastructure.Tests.Postgres;

/// <summary>steller.signature_nonces: one use per (key, nonce) within its window, across every node sharing the database.</summary>
public sealed class NonceLedgerTests
{
    private TestDatabase db = null!;

    [OneTimeSetUp] public async Task Create() => db = await TestDatabase.Create("nonces");
    [OneTimeTearDown] public async Task Drop() => await db.DisposeAsync();

    [Test]
    public async Task a_nonce_is_accepted_once_per_key_even_from_two_nodes_at_once()
    {
        var nodeA = new PostgresNonceLedger(db.DataSource);
        var nodeB = new PostgresNonceLedger(db.DataSource);
        var until = DateTimeOffset.UtcNow.AddMinutes(5);

        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => (i % 2 == 0 ? nodeA : nodeB).TryRecord("pk_a_1", "n-1", until)));
        results.Count(r => r).Should().Be(1);
        (await nodeA.TryRecord("pk_b_1", "n-1", until)).Should().BeTrue("nonces are per key");
    }

    [Test]
    public async Task expired_nonces_are_pruned_and_an_expired_row_not_yet_pruned_does_not_block()
    {
        var ledger = new PostgresNonceLedger(db.DataSource);
        (await ledger.TryRecord("pk_c_1", "old", DateTimeOffset.UtcNow.AddSeconds(-1))).Should().BeTrue();
        (await ledger.TryRecord("pk_c_1", "old", DateTimeOffset.UtcNow.AddMinutes(5))).Should().BeTrue("the first use's window has passed");
        (await ledger.TryRecord("pk_c_1", "old", DateTimeOffset.UtcNow.AddMinutes(5))).Should().BeFalse();

        (await ledger.TryRecord("pk_c_1", "stale", DateTimeOffset.UtcNow.AddSeconds(-1))).Should().BeTrue();
        (await ledger.Prune()).Should().BeGreaterThanOrEqualTo(1);
        (await db.Scalar<long>("select count(*) from steller.signature_nonces where nonce = 'stale'")).Should().Be(0);
        (await db.Scalar<long>("select count(*) from steller.signature_nonces where nonce = 'old'")).Should().Be(1);
    }
}
