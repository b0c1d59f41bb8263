using Dapper;
using FluentAssertions;
using NUnit.Framework;
using Steller.Domain.Wallets;
using Steller.Projections.Wallets;
using Steller.Testing;
using static Steller.Projections.Tests.Wallets.LedgerScenario;

namespace Steller.Projections.Tests.Wallets;

public sealed class LedgerProjectionTests
{
    private sealed record BalanceRow(string Account, string? PartnerId, string Currency, long Posted, long Pending, long Available, long CreditLimit, bool Frozen, long Entries);
    private sealed record EntryRow(string Account, long Amount, long BalanceAfter, string CounterAccount, string Kind, string TransferId, string? OrderId, int Leg);

    private static async Task<Dictionary<string, BalanceRow>> Balances(ProjectionHarness h)
    {
        await using var conn = await h.Db.DataSource.OpenConnectionAsync();
        return (await conn.QueryAsync<BalanceRow>("""
            select account as Account, partner_id as PartnerId, currency as Currency, posted as Posted, pending as Pending, available as Available,
                   credit_limit as CreditLimit, frozen as Frozen, entries as Entries from read.wallet_balances
            """)).ToDictionary(r => r.Account);
    }

    private static async Task<List<EntryRow>> Entries(ProjectionHarness h, string account)
    {
        await using var conn = await h.Db.DataSource.OpenConnectionAsync();
        return (await conn.QueryAsync<EntryRow>("""
            select account as Account, amount as Amount, balance_after as BalanceAfter, counter_account as CounterAccount, kind as Kind,
                   transfer_id as TransferId, order_id as OrderId, leg as Leg
              from read.ledger_entries where account = @account order by commit_position, prepare_position, leg
            """, new { account })).ToList();
    }

    [Test, CancelAfter(120_000)]
    public async Task wallet_and_platform_balances_follow_every_posting_and_hold_across_small_batches()
    {
        await using var h = await ProjectionHarness.Create("ledgerbal", batchSize: 3);
        var projection = new LedgerProjection();
        h.Start(projection);
        await Write(new WalletWriter(h.Store));
        await h.Append(streams: 2, count: 5, prefix: "other"); // non-wallet events are ignored
        await h.CaughtUp(projection.Name);

        var b = await Balances(h);
        b[Wallet(P1)].Should().BeEquivalentTo(new BalanceRow(Wallet(P1), P1, "EUR", 55_00, 10_00, 45_00, 50_00, false, 5));
        b[Wallet(P2)].Should().BeEquivalentTo(new BalanceRow(Wallet(P2), P2, "EUR", 15_00, 0, 15_00, 0, false, 1));
        b[Wallet(P3, "USD")].Should().BeEquivalentTo(new BalanceRow(Wallet(P3, "USD"), P3, "USD", 7_00, 0, 7_00, 0, true, 1));
        b[Accounts.Funding("EUR")].Posted.Should().Be(-95_00);
        b[Accounts.Funding("EUR")].PartnerId.Should().BeNull();
        b[Accounts.VendorPayable("acme", "EUR")].Posted.Should().Be(20_00);
        b[Accounts.Revenue("EUR")].Posted.Should().Be(5_00);
        b[Accounts.Transit("EUR")].Posted.Should().Be(0);
        b[Accounts.Funding("USD")].Posted.Should().Be(-7_00);
        b.Values.GroupBy(r => r.Currency).Should().OnlyContain(g => g.Sum(r => r.Posted) == 0, "every currency sums to zero");
    }

    [Test, CancelAfter(120_000)]
    public async Task ledger_entries_carry_running_balances_counter_accounts_and_the_order_of_a_capture()
    {
        await using var h = await ProjectionHarness.Create("ledgerent", batchSize: 2);
        var projection = new LedgerProjection();
        h.Start(projection);
        await Write(new WalletWriter(h.Store));
        await h.CaughtUp(projection.Name);

        var p1 = await Entries(h, Wallet(P1));
        p1.Select(e => (e.Kind, e.Amount, e.BalanceAfter)).Should().Equal(
            ("deposit", 100_00, 100_00), ("capture", -20_00, 80_00), ("capture", -5_00, 75_00), ("withdrawal", -5_00, 70_00), ("transfer-out", -15_00, 55_00));
        p1[1].CounterAccount.Should().Be(Accounts.VendorPayable("acme", "EUR"));
        p1[1].OrderId.Should().Be("o-1", "a capture is linked to its hold's order by transfer id");
        p1[2].Leg.Should().Be(1);
        p1[0].CounterAccount.Should().Be(Accounts.Funding("EUR"));

        var revenue = await Entries(h, Accounts.Revenue("EUR"));
        revenue.Should().ContainSingle().Which.Should().BeEquivalentTo(new EntryRow(Accounts.Revenue("EUR"), 5_00, 5_00, Wallet(P1), "capture", "h1", "o-1", 1));
        var transit = await Entries(h, Accounts.Transit("EUR"));
        transit.Select(e => e.BalanceAfter).Should().Equal(15_00, 0);

        var holds = (await h.Db.DataSource.OpenConnection().QueryAsync<(string, string, long)>(
            "select transfer_id, status, captured from read.ledger_holds order by transfer_id")).ToList();
        holds.Should().Equal(("h1", "captured", 25_00L), ("h2", "open", 0L), ("h3", "released", 0L));
    }

    [Test, CancelAfter(120_000)]
    public async Task a_rebuild_produces_identical_balances_and_entries()
    {
        await using var h = await ProjectionHarness.Create("ledgerreb", batchSize: 4, rebuildBatchSize: 7);
        var projection = new LedgerProjection();
        h.Start(projection);
        var w = new WalletWriter(h.Store);
        await Write(w);
        for (var i = 0; i < 30; i++) await w.Deposit(P2, "EUR", 1_00 + i);
        await h.CaughtUp(projection.Name);
        var before = await Balances(h);
        var entriesBefore = await AllEntries(h);

        var result = await h.Rebuilder.Rebuild(projection, null, default);
        result.NewGeneration.Should().Be(2);

        (await Balances(h)).Should().BeEquivalentTo(before);
        (await AllEntries(h)).Should().Equal(entriesBefore);
    }

    private static async Task<List<string>> AllEntries(ProjectionHarness h)
    {
        await using var conn = await h.Db.DataSource.OpenConnectionAsync();
        return (await conn.QueryAsync<string>(
            "select concat_ws('|', account, commit_position, prepare_position, leg, amount, balance_after, counter_account, kind, transfer_id, order_id, event_id) from read.ledger_entries order by 1")).ToList();
    }
}
