using Dapper;
using FluentAssertions;
using NUnit.Framework;
using Steller.Domain.Wallets;
using Steller.Projections.Wallets;
using Steller.Testing;
using static Steller.Projections.Tests.Wallets.LedgerScenario;

namespace Steller.Projections.Tests.Wallets;

public sealed class LedgerLoadTests
{
    [Test, CancelAfter(240_000)]
    public async Task many_wallets_written_concurrently_while_the_projection_runs_end_with_a_clean_audit_and_a_rebuild_changes_nothing()
    {
        await using var h = await ProjectionHarness.Create("ledgerload", batchSize: 97, rebuildBatchSize: 1_000);
        var projection = new LedgerProjection();
        h.Start(projection);

        // 40 partners, each its own writer (a wallet stream has one writer at a time, as the command pipeline guarantees).
        await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Task.Run(async () =>
        {
            var w = new WalletWriter(h.Store);
            var p = $"load{i}";
            await w.Open(p, "EUR");
            await w.Deposit(p, "EUR", 1_000_00);
            for (var n = 0; n < 25; n++)
            {
                var hold = $"{p}-h{n}";
                await w.Hold(p, "EUR", hold, 10_00 + n, orderId: $"{p}-o{n}");
                if (n % 3 == 0) await w.Release(p, "EUR", hold);
                else await w.Capture(p, "EUR", hold, 10_00 + n - n % 2,
                    new CaptureLeg(Accounts.VendorPayable($"v{n % 4}", "EUR"), 8_00), new CaptureLeg(Accounts.Revenue("EUR"), 2_00 + n - n % 2));
            }
            await w.Withdraw(p, "EUR", 1_00);
        })));
        await h.CaughtUp(projection.Name);

        var report = await Audit(h).Run();
        report.Drifts.Should().BeEmpty();
        report.WalletEvents.Should().BeGreaterThan(40 * 50);

        var running = await h.Db.Scalar<long>("""
            select count(*) from (
                select balance_after, sum(amount) over (partition by account order by commit_position, prepare_position, leg) as running
                  from read.ledger_entries) e
             where balance_after <> running
            """);
        running.Should().Be(0, "every running balance is the sum of the account's entries so far");

        var before = await Snapshot(h);
        await h.Rebuilder.Rebuild(projection, null, default);
        (await Snapshot(h)).Should().Equal(before);
        (await Audit(h).Run()).Drifts.Should().BeEmpty();
    }

    private static async Task<List<string>> Snapshot(ProjectionHarness h)
    {
        await using var conn = await h.Db.DataSource.OpenConnectionAsync();
        return (await conn.QueryAsync<string>("""
            select concat_ws('|', account, posted, pending, available, credit_limit, frozen, entries, last_revision) from read.wallet_balances
            union all
            select concat_ws('|', account, commit_position, prepare_position, leg, amount, balance_after, order_id) from read.ledger_entries
            order by 1
            """)).ToList();
    }
}
