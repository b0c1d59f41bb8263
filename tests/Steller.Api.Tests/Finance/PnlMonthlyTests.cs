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
    /// <summary>One (month, currency): the rows of read.pnl_monthly summed, or the ledger's entries summed.</summary>
    private sealed record Totals(DateTime Month, string Currency, long Sales, long VendorCost, long Refunds, long VendorRefunds, long Margin,
        long Net);

    private sealed record Row(DateTime Month, string PartnerId, string ProductType, string Vendor, string Currency, long Sales, long VendorCost,
        long Refunds, long VendorRefunds, long Margin, long Net);

    [Test, CancelAfter(300_000)]
    public async Task the_monthly_pnl_splits_by_partner_product_type_and_vendor_and_its_totals_equal_the_ledgers_own_sums()
    {
        using var finance = await factory.AdminClient("finance");
        using var partner = await Partner("pnl-buyer", 1_000_00);
        using var other = await Partner("pnl-other", 1_000_00);

        // pnl-buyer: a gift card (24.00 at the vendor), two gift cards of which the vendor delivers one, a top-up (14.25 at the
        // vendor), and a top-up the vendor fails (nothing sold).
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
        // pnl-other: one order of a gift card and a top-up (one capture, two product types, two vendors).
        var mixed = (await other.PlaceOrder("mixed", [new NewOrderLine(Amazon25, 1, 25_00), new NewOrderLine(Vodafone15, 1, 15_00)],
            recipientPhone: Phone)).OrderId;
        (await Terminal(other, mixed)).Status.Should().Be("Completed");

        // 10.00 of the whole gift card goes back to pnl-buyer; the vendor reverses that card (24.00 back to Steller). 5.00 of the
        // mixed order goes back to pnl-other: split 25:15 over its lines, 3.125 and 1.875, the tie's odd cent to the first line.
        (await admin.PostAsJsonAsync($"/admin/orders/{whole}/refunds", new { refundId = "r1", amount = 10_00, reason = "goodwill" }))
            .StatusCode.Should().Be(HttpStatusCode.Created);
        (await finance.PostAsJsonAsync("/admin/vendors/giftcard/refunds",
                new { currency = "EUR", amount = 24_00, reference = "gc-reversal-1", orderId = whole, reason = "card never activated" }))
            .StatusCode.Should().Be(HttpStatusCode.Created);
        (await admin.PostAsJsonAsync($"/admin/orders/{mixed}/refunds", new { refundId = "r2", amount = 5_00, reason = "goodwill" }))
            .StatusCode.Should().Be(HttpStatusCode.Created);

        List<Row> rows = [];
        await Eventually.True(async () =>
        {
            rows = await Rows();
            return rows.Sum(r => r.VendorRefunds) == 24_00 && rows.Sum(r => r.Refunds) == 15_00 && rows.Sum(r => r.Sales) == 105_00;
        }, TimeSpan.FromSeconds(60), "read.pnl_monthly folded every order, the refunds and the vendor reversal");

        var month = rows[0].Month;
        (month.Day, month.TimeOfDay).Should().Be((1, TimeSpan.Zero), "a row's month is its first day");
        rows.Select(r => (r.PartnerId, r.ProductType, r.Vendor, r.Currency, r.Sales, r.VendorCost, r.Refunds, r.VendorRefunds, r.Margin, r.Net))
            .Should().BeEquivalentTo(new[]
            {
                // the partial order captured one card of two; the failed top-up sold nothing
                ("pnl-buyer", "gift_card", "giftcard", "EUR", 50_00L, 48_00L, 10_00L, 24_00L, 2_00L, 16_00L),
                ("pnl-buyer", "top_up", "topup", "EUR", 15_00L, 14_25L, 0L, 0L, 75L, 75L),
                ("pnl-other", "gift_card", "giftcard", "EUR", 25_00L, 24_00L, 3_13L, 0L, 1_00L, -2_13L),
                ("pnl-other", "top_up", "topup", "EUR", 15_00L, 14_25L, 1_87L, 0L, 75L, -1_12L),
            });

        // The totals, summed from read.ledger_entries the way finance would.
        await Eventually.True(async () => (await LedgerSums()).SequenceEqual(await PnlTotals()), TimeSpan.FromSeconds(60),
            "read.pnl_monthly summed per month and currency equals the ledger's sums");
        (await LedgerSums()).Should().Equal(await PnlTotals());
        (await db.Scalar<long>("select posted from read.wallet_balances where account = 'platform:revenue:EUR'"))
            .Should().Be(rows.Sum(r => r.Net), "the net is what platform:revenue earned");

        // Finance reads it over the admin API, as JSON or CSV, of one partner or currency when asked.
        var m = DateOnly.FromDateTime(month).ToString("yyyy-MM");
        var json = await finance.GetFromJsonAsync<JsonElement>($"/admin/reports/pnl?from={m}&to={m}");
        json.GetArrayLength().Should().Be(4);
        var ofOther = await finance.GetFromJsonAsync<JsonElement>($"/admin/reports/pnl?from={m}&to={m}&partner=pnl-other&currency=EUR");
        ofOther.EnumerateArray().Select(r => (r.GetProperty("month").GetString(), r.GetProperty("partnerId").GetString(),
                r.GetProperty("productType").GetString(), r.GetProperty("sales").GetInt64(), r.GetProperty("net").GetInt64()))
            .Should().Equal(($"{m}-01", "pnl-other", "gift_card", 25_00L, -2_13L), ($"{m}-01", "pnl-other", "top_up", 15_00L, -1_12L));
        (await finance.GetFromJsonAsync<JsonElement>($"/admin/reports/pnl?from={m}&to={m}&currency=USD")).GetArrayLength().Should().Be(0);
        using var csvRequest = new HttpRequestMessage(HttpMethod.Get, $"/admin/reports/pnl?from=2020-01&to={m}&partner=pnl-buyer");
        csvRequest.Headers.Accept.ParseAdd("text/csv");
        using var csv = await finance.SendAsync(csvRequest);
        csv.Content.Headers.ContentType!.MediaType.Should().Be("text/csv");
        (await csv.Content.ReadAsStringAsync()).Should().Be(
            "month,partner_id,product_type,vendor,currency,sales,vendor_cost,refunds,vendor_refunds,margin,net\n"
            + $"{m},pnl-buyer,gift_card,giftcard,EUR,5000,4800,1000,2400,200,1600\n"
            + $"{m},pnl-buyer,top_up,topup,EUR,1500,1425,0,0,75,75\n");
        (await finance.GetAsync($"/admin/reports/pnl?from={m}&to=2020-01")).StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await finance.GetAsync("/admin/reports/pnl?from=2026-13&to=2026-12")).StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await finance.GetAsync($"/admin/reports/pnl?from={m}&to={m}&currency=XXQ")).StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await finance.GetAsync($"/admin/reports/pnl?from={m}&to={m}&partner={new string('p', 65)}")).StatusCode
            .Should().Be(HttpStatusCode.BadRequest);
    }

    private async Task<List<Row>> Rows()
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        return (await conn.QueryAsync<Row>("""
            select month::timestamp as Month, partner_id as PartnerId, product_type as ProductType, vendor as Vendor, currency as Currency,
                   sales as Sales, vendor_cost as VendorCost, refunds as Refunds, vendor_refunds as VendorRefunds, margin as Margin, net as Net
              from read.pnl_monthly order by month, currency, partner_id, product_type, vendor
            """)).ToList();
    }

    private async Task<List<Totals>> PnlTotals()
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        return (await conn.QueryAsync<Totals>("""
            select month::timestamp as Month, currency as Currency, sum(sales)::bigint as Sales, sum(vendor_cost)::bigint as VendorCost,
                   sum(refunds)::bigint as Refunds, sum(vendor_refunds)::bigint as VendorRefunds, sum(margin)::bigint as Margin,
                   sum(net)::bigint as Net
              from read.pnl_monthly group by 1, 2 order by 1, 2
            """)).ToList();
    }

    /// <summary>pnl_monthly's totals from the ledger's entries (each posting has two sides: one side is summed).</summary>
    private async Task<List<Totals>> LedgerSums()
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        return (await conn.QueryAsync<Totals>("""
            select date_trunc('month', recorded_at at time zone 'UTC') as Month, currency as Currency,
                   coalesce(-sum(amount) filter (where kind = 'capture' and account like 'wallet:%'), 0)::bigint as Sales,
                   coalesce(sum(amount) filter (where kind = 'capture' and account like 'platform:vendor:%'), 0)::bigint as VendorCost,
                   coalesce(sum(amount) filter (where kind = 'refund' and account like 'wallet:%'), 0)::bigint as Refunds,
                   coalesce(sum(amount) filter (where kind = 'vendor-refund' and account like 'platform:revenue:%'), 0)::bigint as VendorRefunds,
                   coalesce(-sum(amount) filter (where kind = 'capture' and account like 'wallet:%'), 0)::bigint
                     - coalesce(sum(amount) filter (where kind = 'capture' and account like 'platform:vendor:%'), 0)::bigint as Margin,
                   coalesce(sum(amount) filter (where account like 'platform:revenue:%'), 0)::bigint as Net
              from read.ledger_entries
             where kind in ('capture', 'refund', 'vendor-refund')
             group by 1, 2 order by 1, 2
            """)).ToList();
    }
}
