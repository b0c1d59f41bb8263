using FluentAssertions;
using NUnit.Framework;
using Steller.Domain.Wallets;
using Steller.Projections.Wallets;
using Steller.Testing;
using static Steller.Projections.Tests.Wallets.LedgerScenario;

namespace Steller.Projections.Tests.Wallets;

public sealed class LedgerAuditTests
{
    [Test, CancelAfter(120_000)]
    public async Task the_replay_folds_every_wallet_and_platform_account_and_each_currency_sums_to_zero()
    {
        await using var h = await ProjectionHarness.Create("ledgerreplay");
        await Write(new WalletWriter(h.Store));

        var snapshot = await Replay(h).Fold();

        snapshot.Balances[Wallet(P1)].Should().Be(55_00);
        snapshot.Wallets["wallet-p1-EUR"].State.Pending.Should().Be(10_00);
        snapshot.Balances[Accounts.Funding("EUR")].Should().Be(-95_00);
        snapshot.Balances[Accounts.VendorPayable("acme", "EUR")].Should().Be(20_00);
        snapshot.CurrencyTotals.Should().BeEquivalentTo(new Dictionary<string, decimal> { ["EUR"] = 0, ["USD"] = 0 });
    }

    [Test, CancelAfter(120_000)]
    public async Task the_audit_is_clean_when_the_read_model_agrees_with_the_event_store()
    {
        await using var h = await ProjectionHarness.Create("ledgerclean");
        var projection = new LedgerProjection();
        h.Start(projection);
        await Write(new WalletWriter(h.Store));
        await h.CaughtUp(projection.Name);

        var report = await Audit(h).Run();

        report.Drifts.Should().BeEmpty();
        report.Clean.Should().BeTrue();
        report.ComparedWithReadModel.Should().BeTrue();
        report.Currencies.Should().OnlyContain(c => c.Balanced);
        report.Accounts.Should().Contain(a => a.Account == Wallet(P1) && a.Posted == 55_00 && a.ReadModelPosted == 55_00 && a.Pending == 10_00);
    }

    [Test, CancelAfter(120_000)]
    public async Task a_tampered_read_model_row_is_reported_as_drift_naming_account_field_and_both_values()
    {
        await using var h = await ProjectionHarness.Create("ledgerdrift");
        var projection = new LedgerProjection();
        var (_, stop) = h.Start(projection);
        await Write(new WalletWriter(h.Store));
        await h.CaughtUp(projection.Name);
        await stop.CancelAsync();

        await using (var conn = await h.Db.DataSource.OpenConnectionAsync())
        await using (var cmd = new Npgsql.NpgsqlCommand("""
            update read.wallet_balances set posted = posted + 1, available = available + 1 where account = 'wallet:p2:EUR';
            update read.wallet_balances set pending = 0 where account = 'wallet:p1:EUR';
            delete from read.wallet_balances where account = 'platform:revenue:EUR';
            """, conn))
            await cmd.ExecuteNonQueryAsync();

        var report = await Audit(h).Run();

        report.Clean.Should().BeFalse();
        report.Drifts.Should().ContainEquivalentOf(new { Account = "wallet:p2:EUR", Field = "posted", Log = "1500", ReadModel = "1501" });
        report.Drifts.Should().ContainEquivalentOf(new { Account = "wallet:p1:EUR", Field = "pending", Log = "1000", ReadModel = "0" });
        report.Drifts.Should().ContainEquivalentOf(new { Account = "platform:revenue:EUR", Field = "row", Log = "present", ReadModel = "missing" });
        report.Currencies.Should().OnlyContain(c => c.Balanced, "the event store itself is balanced");
    }

    [Test, CancelAfter(120_000)]
    public async Task a_read_model_that_is_behind_is_reported_behind_with_both_positions_never_drift_and_never_clean()
    {
        await using var h = await ProjectionHarness.Create("ledgerlag");
        var projection = new LedgerProjection();
        var (_, stop) = h.Start(projection);
        var w = new WalletWriter(h.Store);
        await Write(w);
        await h.CaughtUp(projection.Name);
        await stop.CancelAsync();
        await Task.Delay(200);
        var checkpoint = await h.Bookkeeping.LoadCheckpoint(projection.Name, 1, default);
        await w.Deposit(P2, "EUR", 9_99); // the stopped projection never sees it

        var report = await Audit(h).Run();

        report.Drifts.Should().BeEmpty("compared at the read model's checkpoint, nothing differs");
        report.Result.Should().Be("behind");
        report.Clean.Should().BeFalse();
        report.WalletEventsBehind.Should().Be(1);
        report.ReadModelPosition.Should().Be(checkpoint.Position.ToString());
        var p2 = report.Accounts.Single(a => a.Account == Wallet(P2));
        p2.Posted.Should().Be(24_99, "the whole log is folded");
        p2.ReadModelPosted.Should().Be(15_00);
        report.ReadModelNote.Should().Contain("behind");
    }

    [Test, CancelAfter(120_000)]
    public async Task as_of_an_instant_gives_the_balances_of_that_time()
    {
        await using var h = await ProjectionHarness.Create("ledgerasof");
        var w = new WalletWriter(h.Store);
        var t0 = new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);
        w.Now = t0;
        await w.Open(P1, "EUR");
        await w.Deposit(P1, "EUR", 10_00);
        w.Now = t0.AddHours(1);
        await w.Hold(P1, "EUR", "h1", 4_00);
        w.Now = t0.AddHours(2);
        await w.Capture(P1, "EUR", "h1", 4_00);
        await w.Deposit(P1, "EUR", 1_00);

        var atStart = await Audit(h).Run(asOf: t0.AddMinutes(30));
        var afterHold = await Replay(h).Fold(asOf: t0.AddHours(1));
        var now = await Replay(h).Fold();

        atStart.ComparedWithReadModel.Should().BeFalse();
        atStart.Clean.Should().BeTrue();
        atStart.Accounts.Single(a => a.Account == Wallet(P1)).Posted.Should().Be(10_00);
        afterHold.Balances[Wallet(P1)].Should().Be(10_00);
        afterHold.Wallets["wallet-p1-EUR"].State.Pending.Should().Be(4_00);
        now.Balances[Wallet(P1)].Should().Be(7_00);
        now.Balances[Accounts.Revenue("EUR")].Should().Be(4_00);
    }

    [Test, CancelAfter(120_000)]
    public async Task a_stored_event_whose_postings_cross_currencies_breaks_zero_sum_and_the_audit_says_which_currencies()
    {
        await using var h = await ProjectionHarness.Create("ledgerzerosum");
        var projection = new LedgerProjection();
        h.Start(projection);
        var w = new WalletWriter(h.Store);
        await Write(w);
        // The domain never emits this (a EUR wallet funded from the USD funding account); a bug or a hand edit of the store could.
        var corrupt = new Deposited("bad-1", 3_00, "manual", Accounts.Funding("USD"));
        await h.Store.Append("wallet-p2-EUR", Steller.Application.EventStore.ExpectedRevision.Any, [new Steller.Application.EventStore.EventData(
            Guid.NewGuid(), WalletWriter.Registry.NameOf(typeof(Deposited)), WalletWriter.Registry.Serialize(corrupt), Events.Metadata())]);
        await h.CaughtUp(projection.Name);

        var report = await Audit(h).Run();

        report.Clean.Should().BeFalse();
        report.Currencies.Should().BeEquivalentTo(new[] { new { Currency = "EUR", Sum = 3_00L, Balanced = false }, new { Currency = "USD", Sum = -3_00L, Balanced = false } });
        report.Drifts.Should().ContainEquivalentOf(new { Account = "*:EUR", Field = "sum", Log = "300", ReadModel = (string?)null });
        report.Drifts.Should().ContainEquivalentOf(new { Account = "*:USD", Field = "sum", Log = "-300", ReadModel = (string?)null });
        report.Drifts.Should().HaveCount(2, "the read model followed the same events, so nothing else differs");
    }

    [Test, CancelAfter(120_000)]
    public async Task a_stored_event_that_cannot_apply_to_its_wallet_is_reported_and_the_other_wallets_are_still_audited()
    {
        await using var h = await ProjectionHarness.Create("ledgerfault");
        var w = new WalletWriter(h.Store);
        await Write(w);
        // A capture of a hold that was never placed: the domain never emits it.
        var orphan = new HoldCaptured("no-such-hold", 1_00, 0, [new CaptureLeg(Accounts.Revenue("EUR"), 1_00)]);
        await h.Store.Append("wallet-p2-EUR", Steller.Application.EventStore.ExpectedRevision.Any, [new Steller.Application.EventStore.EventData(
            Guid.NewGuid(), WalletWriter.Registry.NameOf(typeof(HoldCaptured)), WalletWriter.Registry.Serialize(orphan), Events.Metadata())]);
        await w.Deposit(P1, "EUR", 1_00);

        var report = await Audit(h).Run(asOf: DateTimeOffset.UtcNow.AddMinutes(1));

        report.Clean.Should().BeFalse();
        report.Drifts.Should().ContainSingle().Which.Should().BeEquivalentTo(new { Account = Wallet(P2), Field = "stream" });
        report.Drifts[0].Message.Should().Contain("wallet-p2-EUR").And.Contain("wallet.hold-captured.v1");
        report.Accounts.Single(a => a.Account == Wallet(P1)).Posted.Should().Be(56_00, "the replay goes on with the other streams");
        report.Currencies.Should().OnlyContain(c => c.Balanced, "the broken event's postings are left out");
    }
}
