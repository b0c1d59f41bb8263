using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using FluentAssertions;
using NUnit.Framework;
using Steller.Api.Tests.Orders;
using Steller.Client;
using Steller.Testing;

namespace Steller.Api.Tests.Finance;

/// <summary>read.pnl_monthly against the ledger's own postings: real orders through the vendor simulator, refunds both ways.</summary>
public sealed class PnlMonthlyTests() : OrderFixture("pnl_monthly")
{
    private sealed record Row(DateTime Month, string Currency, long OrdersCompleted, long Sales, long Refunds, long Revenue, long VendorCost,
        long VendorRefunds, long Margin);

    [Test, CancelAfter(300_000)]
    public async Task the_monthly_pnl_of_complete_partial_failed_and_refunded_orders_equals_the_ledgers_own_sums()
    {
        using var finance = await factory.AdminClient("finance");
        using var partner = await Partner("pnl-buyer", 1_000_00);

        // A gift card (24.00 at the vendor), two gift cards of which the vendor delivers one, a top-up (14.25 at the vendor),
        // and a top-up the vendor fails (nothing sold).
        var whole = (await partner.PlaceOrder("gc-whole", [new NewOrderLine(Amazon25, 1, 25_00)])).OrderId;
        (await Terminal(partner, whole)).Status.Should().Be("Completed");
        await sim.Script(new { vendor = "giftcard", operation = "checkout", action = "partial", delivered = 1, times = 1 });
        var partial = (await partner.PlaceOrder("gc-partial", [new NewOrderLine(Amazon25, 2, 25_00)])).OrderId;
        (await Terminal(partner, partial)).Status.Should().Be("PartiallyCompleted");
        var topUp = (await partner.PlaceOrder("tu-1", [new NewOrderLine(Vodafone15, 1, 15_00)], recipientPhone: Phone)).OrderId;
        (await Terminal(partner, topUp)).Status.Should().Be("Completed");
        await sim.Script(new { vendor = "topup", operation = "transfer", action = "fail", reason = "Number not eligible", times = 1 });
        var failed = (await partner.PlaceOrder("tu-failed", [new NewOrderLine(Vodafone15, 1, 15_00)], recipientPhone: Phone)).OrderId;
        (await Terminal(partner, failed)).Status.Should().Be("Failed");

        // 10.00 of the whole gift card goes back to the partner; the vendor reverses that card (24.00 back to Steller).
        (await admin.PostAsJsonAsync($"/admin/orders/{whole}/refunds", new { refundId = "r1", amount = 10_00, reason = "goodwill" }))
            .StatusCode.Should().Be(HttpStatusCode.Created);
        (await finance.PostAsJsonAsync("/admin/vendors/giftcard/refunds",
                new { currency = "EUR", amount = 24_00, reference = "gc-reversal-1", orderId = whole, reason = "card never activated" }))
            .StatusCode.Should().Be(HttpStatusCode.Created);

        Row row = null!;
        await Eventually.True(async () =>
        {
            var rows = await Pnl();
            row = rows.SingleOrDefault()!;
            return rows.Count == 1 && row.VendorRefunds == 24_00 && row.Refunds == 10_00 && row.OrdersCompleted == 3;
        }, TimeSpan.FromSeconds(60), "read.pnl_monthly folded every order, the refund and the vendor reversal");

        (row.Month.Day, row.Month.TimeOfDay, row.Currency).Should().Be((1, TimeSpan.Zero, "EUR"), "a row is a month (its first day) and a currency");
        row.Should().Be(row with
        {
            OrdersCompleted = 3, // the failed top-up sold nothing
            Sales = 25_00 + 25_00 + 15_00, // the partial order captured one card of two
            Refunds = 10_00,
            Revenue = 65_00 - 10_00,
            VendorCost = 24_00 + 24_00 + 14_25,
            VendorRefunds = 24_00,
            Margin = 55_00 - 62_25 + 24_00,
        });

        // The same figures, summed from read.ledger_entries the way finance would.
        await Eventually.True(async () => (await LedgerSums()).SequenceEqual(await Pnl()), TimeSpan.FromSeconds(60),
            "read.pnl_monthly equals the ledger's sums per month and currency");
        (await LedgerSums()).Should().Equal(await Pnl());
        (await db.Scalar<long>("select posted from read.wallet_balances where account = 'platform:revenue:EUR'"))
            .Should().Be(row.Margin, "the margin is what platform:revenue earned");

        // Finance reads it over the admin API, as JSON or CSV.
        var month = DateOnly.FromDateTime(row.Month).ToString("yyyy-MM");
        var json = await finance.GetFromJsonAsync<JsonElement>($"/admin/reports/pnl?from={month}&to={month}");
        json.GetArrayLength().Should().Be(1);
        (json[0].GetProperty("month").GetString(), json[0].GetProperty("sales").GetInt64(), json[0].GetProperty("margin").GetInt64())
            .Should().Be(($"{month}-01", row.Sales, row.Margin));
        using var csvRequest = new HttpRequestMessage(HttpMethod.Get, $"/admin/reports/pnl?from=2020-01&to={month}");
        csvRequest.Headers.Accept.ParseAdd("text/csv");
        using var csv = await finance.SendAsync(csvRequest);
        csv.Content.Headers.ContentType!.MediaType.Should().Be("text/csv");
        (await csv.Content.ReadAsStringAsync()).Should().Be(
            "month,currency,orders_completed,sales,refunds,revenue,vendor_cost,vendor_refunds,margin\n"
            + $"{month},EUR,3,6500,1000,5500,6225,2400,1675\n");
        (await finance.GetAsync($"/admin/reports/pnl?from={month}&to=2020-01")).StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await finance.GetAsync("/admin/reports/pnl?from=2026-13&to=2026-12")).StatusCode.Should().Be(HttpStatusCode.BadRequest);
    }

    private async Task<List<Row>> Pnl()
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        return (await conn.QueryAsync<Row>("""
            select month::timestamp as Month, currency as Currency, orders_completed as OrdersCompleted, sales as Sales, refunds as Refunds,
                   revenue as Revenue, vendor_cost as VendorCost, vendor_refunds as VendorRefunds, margin as Margin
              from read.pnl_monthly order by month, currency
            """)).ToList();
    }

    /// <summary>pnl_monthly's figures from the ledger's entries (each posting has two sides: one side is summed).</summary>
    private async Task<List<Row>> LedgerSums()
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        return (await conn.QueryAsync<Row>("""
            select date_trunc('month', recorded_at at time zone 'UTC') as Month, currency as Currency,
                   count(distinct transfer_id) filter (where kind = 'capture' and order_id is not null) as OrdersCompleted,
                   coalesce(-sum(amount) filter (where kind = 'capture' and account like 'wallet:%'), 0)::bigint as Sales,
                   coalesce(sum(amount) filter (where kind = 'refund' and account like 'wallet:%'), 0)::bigint as Refunds,
                   coalesce(-sum(amount) filter (where kind = 'capture' and account like 'wallet:%'), 0)::bigint
                     - coalesce(sum(amount) filter (where kind = 'refund' and account like 'wallet:%'), 0)::bigint as Revenue,
                   coalesce(sum(amount) filter (where kind = 'capture' and account like 'platform:vendor:%'), 0)::bigint as VendorCost,
                   coalesce(sum(amount) filter (where kind = 'vendor-refund' and account like 'platform:revenue:%'), 0)::bigint as VendorRefunds,
                   coalesce(sum(amount) filter (where account like 'platform:revenue:%'), 0)::bigint as Margin
              from read.ledger_entries
             where kind in ('capture', 'refund', 'vendor-refund')
             group by 1, 2 order by 1, 2
            """)).ToList();
    }
}
