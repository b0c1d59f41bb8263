using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FluentAssertions;
using NUnit.Framework;
using Steller.Api.Tests.Orders;
using Steller.Client;
using Steller.Testing;

namespace Steller.Api.Tests.Vendors;

/// <summary>
/// Finance closes the books, end to end: real PostgreSQL, the vendor simulator over HTTP with real prepaid balances (opening at
/// zero), the nightly audit job on the API's clock.
/// </summary>
public sealed class FinanceCycleTests() : OrderFixture("finance_cycle")
{
    protected override string[] SimulatorArgs => ["--Simulator:GiftCard:OpeningBalance=0", "--Simulator:TopUp:OpeningBalance=0"];

    protected override IReadOnlyDictionary<string, string?> ExtraSettings => new Dictionary<string, string?>
    {
        ["Audits:CheckSeconds"] = "1",
    };

    [Test, CancelAfter(300_000)]
    public async Task a_full_cycle_reconciles_exactly_the_nightly_job_stores_a_clean_run_and_a_vendor_balance_drift_is_flagged()
    {
        using var finance = await factory.AdminClient("finance");
        using var partner = await Partner("cycle-buyer", 1_000_00);

        // Finance tops up both vendors: in Steller's ledger, and (the bank transfer arriving) at the vendors.
        (await finance.PostAsJsonAsync("/admin/vendors/giftcard/top-ups", new { currency = "EUR", amount = 500_00, reference = "bank-gc-1" }))
            .StatusCode.Should().Be(HttpStatusCode.Created);
        (await finance.PostAsJsonAsync("/admin/vendors/topup/top-ups", new { currency = "EUR", amount = 100_00, reference = "bank-tu-1" }))
            .StatusCode.Should().Be(HttpStatusCode.Created);
        await sim.TopUpBalance("giftcard", "EUR", 500.00m);
        await sim.TopUpBalance("topup", "EUR", 100.00m);

        // Orders complete: three gift cards (24.00 each at the vendor) and a top-up (14.25); one gift card is refunded.
        var orders = new List<string>();
        for (var i = 1; i <= 3; i++) orders.Add((await partner.PlaceOrder($"gc-{i}", [new NewOrderLine(Amazon25, 1, 25_00)])).OrderId);
        orders.Add((await partner.PlaceOrder("tu-1", [new NewOrderLine(Vodafone15, 1, 15_00)], recipientPhone: Phone)).OrderId);
        foreach (var id in orders) (await Terminal(partner, id)).Status.Should().Be("Completed");
        (await admin.PostAsJsonAsync($"/admin/orders/{orders[0]}/refunds", new { refundId = "r1", amount = 25_00, reason = "customer" }))
            .StatusCode.Should().Be(HttpStatusCode.Created);

        var giftCard = await Reconcile(finance, "giftcard", exact: true);
        (giftCard.GetProperty("ledgerBalance").GetInt64(), giftCard.GetProperty("vendorBalance").GetInt64()).Should().Be((428_00L, 428_00L));
        (giftCard.GetProperty("inFlight").GetInt64(), giftCard.GetProperty("unexplained").GetInt64()).Should().Be((0L, 0L));
        giftCard.GetProperty("flagged").GetBoolean().Should().BeFalse();
        var topUp = await Reconcile(finance, "topup", exact: true);
        (topUp.GetProperty("ledgerBalance").GetInt64(), topUp.GetProperty("vendorBalance").GetInt64()).Should().Be((85_75L, 85_75L));

        // A purchase the vendor has charged but Steller has not settled yet explains the difference: it is in flight.
        await sim.Script(new { vendor = "giftcard", operation = "checkout", action = "slow", delayMs = 20_000, times = 1 });
        var slow = (await partner.PlaceOrder("gc-slow", [new NewOrderLine(Amazon25, 1, 25_00)])).OrderId;
        await Eventually.True(async () => (await sim.Orders("giftcard")).Any(o => o.Status == "Processing"), TimeSpan.FromSeconds(15),
            "the vendor took the slow order (and charged it)");
        var inFlight = await Reconcile(finance, "giftcard", exact: true);
        (inFlight.GetProperty("ledgerBalance").GetInt64(), inFlight.GetProperty("vendorBalance").GetInt64()).Should().Be((428_00L, 404_00L));
        (inFlight.GetProperty("difference").GetInt64(), inFlight.GetProperty("inFlight").GetInt64(), inFlight.GetProperty("inFlightOrders").GetInt32())
            .Should().Be((24_00L, 24_00L, 1));
        inFlight.GetProperty("inFlightSample")[0].GetProperty("orderId").GetString().Should().Be(slow);
        (await Terminal(partner, slow, 90)).Status.Should().Be("Completed");
        (await Reconcile(finance, "giftcard", exact: true)).GetProperty("ledgerBalance").GetInt64().Should().Be(404_00);

        // The nightly job (the API's clock moved a day on) stores a clean run of every audit.
        factory.Clock.Advance(TimeSpan.FromDays(1));
        var nightly = await NightlyRuns(finance, expected: 5);
        nightly.Select(r => (r.GetProperty("kind").GetString(), r.GetProperty("subject").GetString())).Should().BeEquivalentTo(new[]
        {
            ("ledger", (string?)null), ("stock", null), ("chain", null), ("vendor-reconciliation", "giftcard:EUR"),
            ("vendor-reconciliation", "topup:EUR"),
        });
        nightly.Should().OnlyContain(r => !r.GetProperty("flagged").GetBoolean() && r.GetProperty("driftLines").GetArrayLength() == 0,
            "every nightly run is clean");
        nightly.Select(r => r.GetProperty("result").GetString()).Should().BeEquivalentTo(["clean", "clean", "clean", "exact", "exact"]);
        nightly.Single(r => r.GetProperty("kind").GetString() == "ledger").GetProperty("eventsFolded").GetInt64().Should().BeGreaterThan(0);

        // Then the vendor's balance drifts (10.00 appears that Steller never recorded): the reconciliation flags it, and so does
        // the next night's run.
        await sim.TopUpBalance("giftcard", "EUR", 10.00m);
        var drift = await Reconcile(finance, "giftcard", exact: false);
        (drift.GetProperty("unexplained").GetInt64(), drift.GetProperty("result").GetString(), drift.GetProperty("flagged").GetBoolean())
            .Should().Be((-10_00L, "drift", true));
        drift.GetProperty("driftLines")[0].GetString().Should().Contain("-10.00 unexplained");

        factory.Clock.Advance(TimeSpan.FromDays(1));
        var nextNight = await NightlyRuns(finance, expected: 10);
        var flagged = nextNight.Take(5).Where(r => r.GetProperty("flagged").GetBoolean()).ToList();
        flagged.Should().ContainSingle().Which.GetProperty("subject").GetString().Should().Be("giftcard:EUR");
        flagged[0].GetProperty("result").GetString().Should().Be("drift");
        flagged[0].GetProperty("summary").GetProperty("unexplained").GetInt64().Should().Be(-10_00);
        (await db.Scalar<long>("select count(*) from read.audit_runs where flagged and kind = 'vendor-reconciliation'")).Should().Be(1);

        // The flagged run raised one audit_drift alert for its cause; the clean runs raised none.
        await Eventually.True(async () => await db.Scalar<long>(
                "select count(*) from read.alerts where kind = 'audit_drift' and status = 'open'") == 1,
            TimeSpan.FromSeconds(30), "read.alerts shows the drift");
        (await db.Scalar<string>("select subject from read.alerts where kind = 'audit_drift'"))
            .Should().Be("vendor-reconciliation:giftcard:EUR");

        // Last, someone edits one amount in the event log with SQL, after the sealer chained it: the next night's chain run
        // names that event and raises its own alert.
        await Eventually.True(async () => await db.Scalar<long>("select count(*) from es.chain") == await db.Scalar<long>("select count(*) from es.events"),
            TimeSpan.FromSeconds(60), "the sealer chained the whole log");
        (await db.Scalar<long>("""
            with target as (select stream_id, revision from es.events where event_type = 'wallet.deposited.v1' and data::text like '%100000%'
                            order by position limit 1)
            update es.events e set data = replace(e.data::text, '100000', '900000')::json
              from target t where e.stream_id = t.stream_id and e.revision = t.revision and e.data::text like '%100000%'
            returning 1
            """)).Should().Be(1, "the partner's first deposit of 1,000.00 becomes 9,000.00");
        factory.Clock.Advance(TimeSpan.FromDays(1));
        var thirdNight = await NightlyRuns(finance, expected: 15);
        var chainRun = thirdNight.Take(5).Single(r => r.GetProperty("kind").GetString() == "chain");
        (chainRun.GetProperty("result").GetString(), chainRun.GetProperty("flagged").GetBoolean()).Should().Be(("drift", true));
        chainRun.GetProperty("driftLines")[0].GetString().Should().StartWith("changed at ");
        await Eventually.True(async () => await db.Scalar<long>(
                "select count(*) from read.alerts where kind = 'audit_drift' and subject = 'chain' and status = 'open'") == 1,
            TimeSpan.FromSeconds(30), "the edited event is alerted");
    }

    private static async Task<JsonElement> Reconcile(HttpClient finance, string vendor, bool exact)
    {
        JsonElement report = default;
        // The ledger read model and the vendor settle within moments of each other: ask until the expected verdict, then look.
        await Eventually.True(async () =>
        {
            report = await finance.GetFromJsonAsync<JsonElement>($"/admin/vendors/{vendor}/reconciliation?currency=EUR");
            return report.GetProperty("result").GetString() == (exact ? "exact" : "drift");
        }, TimeSpan.FromSeconds(30), $"the {vendor} reconciliation is {(exact ? "exact" : "flagged")}");
        return report;
    }

    /// <summary>The nightly runs, newest first, once there are <paramref name="expected"/> of them.</summary>
    private static async Task<List<JsonElement>> NightlyRuns(HttpClient finance, int expected)
    {
        var runs = new List<JsonElement>();
        await Eventually.True(async () =>
        {
            var page = await finance.GetFromJsonAsync<JsonElement>("/admin/audits?limit=50");
            runs = page.GetProperty("items").EnumerateArray().Where(r => r.GetProperty("trigger").GetString() == "nightly").ToList();
            return runs.Count >= expected;
        }, TimeSpan.FromSeconds(90), $"the nightly job stored {expected} runs");
        return runs;
    }
}
