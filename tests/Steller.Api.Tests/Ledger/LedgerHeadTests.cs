using System.Net;
using System.Net.Http.Json;
using FluentAssertions;
using NUnit.Framework;
using Steller.Application.EventStore;
using Steller.Projections.Chain;
using Steller.Projections.Chain.ReadingHead;
using Steller.Testing;

namespace Steller.Api.Tests.Ledger;

/// <summary>The API node seals the hash chain as the log grows; GET /admin/ledger/head answers what verify recomputes.</summary>
public sealed class LedgerHeadTests() : AdminApiFixture("ledgerhead")
{
    [Test, CancelAfter(180_000)]
    public async Task the_head_follows_the_log_and_matches_what_verify_recomputes()
    {
        var store = db.CreateEventStore();
        var w = new WalletWriter(store);
        await w.Onboard("hp1");
        await w.Open("hp1", "EUR");
        await w.Deposit("hp1", "EUR", 50_00);
        await w.Withdraw("hp1", "EUR", 5_00);
        // Every committed event, not the log's gap-safe read, which hides commits newer than a transaction still running.
        var count = await db.Scalar<long>("select count(*) from es.events");

        LedgerHead? head = null;
        await Eventually.True(async () =>
        {
            head = await client.GetFromJsonAsync<LedgerHead>("/admin/ledger/head");
            return head!.Sequence >= count && head.LagEvents == 0;
        }, TimeSpan.FromSeconds(60), "the sealer reached the head of the log");

        // Verify recomputes the chain from the log and must arrive at the head's hash at the head's position.
        LogPosition.TryParse(head!.Position, out var position).Should().BeTrue();
        var verifier = new ChainVerifier(new PostgresChainLog(db.DataSource), new ChainStore(db.DataSource));
        foreach (var inProcess in new[] { false, true })
        {
            var verified = await verifier.Verify(expected: new ExpectedLink(position, head.Hash), inProcess: inProcess);
            verified.Intact.Should().BeTrue(verified.Break?.Message);
            verified.EventsChecked.Should().BeGreaterThanOrEqualTo(head.Sequence);
        }
        head.Hash.Should().MatchRegex("^[0-9a-f]{64}$");
        head.LagSeconds.Should().Be(0);
        head.SealedAt.Should().NotBeNull();

        var metrics = await client.GetStringAsync("/metrics");
        metrics.Should().Contain("steller_chain_lag_events").And.Contain("steller_chain_head_sequence");
    }

    [Test]
    public async Task support_cannot_read_the_head_and_finance_can()
    {
        using var support = await factory.AdminClient("support");
        using var finance = await factory.AdminClient("finance");
        (await support.GetAsync("/admin/ledger/head")).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await finance.GetAsync("/admin/ledger/head")).StatusCode.Should().Be(HttpStatusCode.OK);
    }
}
