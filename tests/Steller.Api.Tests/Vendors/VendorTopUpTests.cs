using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FluentAssertions;
using Microsoft.Extensions.DependencyInjection;
using NUnit.Framework;
using Steller.Domain.Wallets;
using Steller.Projections.Wallets;
using Steller.Testing;

namespace Steller.Api.Tests.Vendors;

/// <summary>
/// Finance records top-ups of Steller's prepaid vendor accounts and the vendors' reversals over HTTP against a real PostgreSQL:
/// idempotency by reference, validation, roles, concurrency; the ledger folds them balanced and its audit stays clean.
/// </summary>
public sealed class VendorTopUpTests() : AdminApiFixture("vendor_top_ups")
{
    private const string ReversedOrder = "ord-aaaaaaaaaaaaaaaaaaaaaaaaaa";

    private Task<HttpResponseMessage> TopUp(HttpClient http, string vendor, object body) =>
        http.PostAsJsonAsync($"/admin/vendors/{vendor}/top-ups", body);

    private static async Task<string?> Code(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonElement>()).TryGetProperty("code", out var c) ? c.GetString() : null;

    [Test, CancelAfter(60_000)]
    public async Task a_top_up_repeated_with_the_same_body_answers_the_same_and_another_body_under_its_reference_is_409()
    {
        using var finance = await factory.AdminClient("finance");

        var first = await TopUp(finance, "giftcard", new { currency = "GBP", amount = 500_00, reference = "bank-idem-1" });
        var again = await TopUp(finance, "giftcard", new { currency = "GBP", amount = 500_00, reference = "bank-idem-1" });
        var otherAmount = await TopUp(finance, "giftcard", new { currency = "GBP", amount = 400_00, reference = "bank-idem-1" });
        var otherCurrency = await TopUp(finance, "giftcard", new { currency = "USD", amount = 500_00, reference = "bank-idem-1" });

        first.StatusCode.Should().Be(HttpStatusCode.Created);
        again.StatusCode.Should().Be(HttpStatusCode.OK, "a repeat is answered with the first result");
        (await again.Content.ReadAsStringAsync()).Should().Be(await first.Content.ReadAsStringAsync());
        var body = await first.Content.ReadFromJsonAsync<JsonElement>();
        (body.GetProperty("vendor").GetString(), body.GetProperty("kind").GetString(), body.GetProperty("amount").GetInt64(),
            body.GetProperty("account").GetString()).Should().Be(("giftcard", "top-up", 500_00L, "platform:vendor:giftcard:GBP"));
        otherAmount.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await Code(otherAmount)).Should().Be("idempotency_conflict");
        otherCurrency.StatusCode.Should().Be(HttpStatusCode.Conflict, "one reference per vendor, whatever the currency");
        await Eventually.True(async () => await db.Scalar<long>(
                "select posted from read.wallet_balances where account = 'platform:vendor:giftcard:GBP'") == -500_00,
            TimeSpan.FromSeconds(30), "the ledger shows 500.00 GBP prepaid at the vendor, once");
    }

    [Test, CancelAfter(60_000)]
    public async Task bad_top_ups_are_refused_naming_the_problem_and_nothing_is_written()
    {
        using var finance = await factory.AdminClient("finance");
        using var support = await factory.AdminClient("support");

        var cases = new (HttpResponseMessage Response, HttpStatusCode Status, string Code, string? Field)[]
        {
            (await TopUp(finance, "giftcard", new { currency = "EUR", amount = 0, reference = "r-0" }), HttpStatusCode.BadRequest, "validation_failed", "amount"),
            (await TopUp(finance, "giftcard", new { currency = "EUR", amount = -5, reference = "r-neg" }), HttpStatusCode.BadRequest, "validation_failed", "amount"),
            (await TopUp(finance, "giftcard", new { currency = "QQQ", amount = 5, reference = "r-ccy" }), HttpStatusCode.BadRequest, "validation_failed", "currency"),
            (await TopUp(finance, "giftcard", new { currency = "EUR", amount = 5 }), HttpStatusCode.BadRequest, "validation_failed", "reference"),
            (await TopUp(finance, "giftcard", new { currency = "EUR", amount = 5, reference = "has space" }), HttpStatusCode.BadRequest, "validation_failed", "reference"),
            (await TopUp(finance, "giftcard", new { currency = "EUR", amount = 5, reference = new string('r', 101) }), HttpStatusCode.BadRequest, "validation_failed", "reference"),
            (await TopUp(finance, "giftcard", new { currency = "EUR", amount = Steller.Domain.Money.MaxMinorUnits + 1, reference = "r-big" }), HttpStatusCode.UnprocessableEntity, "amount_out_of_range", null),
            (await TopUp(finance, "stocked", new { currency = "EUR", amount = 5, reference = "r-stocked" }), HttpStatusCode.NotFound, "vendor_not_found", null),
            (await TopUp(finance, "acme", new { currency = "EUR", amount = 5, reference = "r-acme" }), HttpStatusCode.NotFound, "vendor_not_found", null),
            (await TopUp(support, "giftcard", new { currency = "EUR", amount = 5, reference = "r-support" }), HttpStatusCode.Forbidden, "forbidden_role", null),
        };

        foreach (var (response, status, code, field) in cases)
        {
            response.StatusCode.Should().Be(status);
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
            problem.GetProperty("code").GetString().Should().Be(code);
            if (field is not null) problem.GetProperty("errors").TryGetProperty(field, out _).Should().BeTrue($"the problem names {field}");
        }
        (await db.Scalar<long>("select count(*) from es.events where stream_id like 'vendor-%' and data::text like '%\"r-%'"))
            .Should().Be(0, "no refused top-up entered the log");
    }

    [Test, CancelAfter(180_000)]
    public async Task two_hundred_parallel_top_ups_with_distinct_and_repeated_references_post_each_reference_once()
    {
        using var finance = await factory.AdminClient("finance");
        // 200 requests over 80 references: each reference sent 2 or 3 times, in parallel, to both vendors.
        var requests = Enumerable.Range(0, 200).Select(i => (Vendor: i % 2 == 0 ? "topup" : "giftcard", Reference: $"par-{i % 80}",
            Amount: 1_00L * (i % 80 + 1))).ToList();
        var outcomes = new ConcurrentBag<(string Vendor, string Reference, HttpStatusCode Status)>();
        await Parallel.ForEachAsync(requests, new ParallelOptions { MaxDegreeOfParallelism = 50 }, async (r, ct) =>
        {
            using var response = await TopUp(finance, r.Vendor, new { currency = "USD", amount = r.Amount, reference = r.Reference });
            outcomes.Add((r.Vendor, r.Reference, response.StatusCode));
        });

        outcomes.Should().OnlyContain(o => o.Status == HttpStatusCode.Created || o.Status == HttpStatusCode.OK);
        var distinct = requests.Select(r => (r.Vendor, r.Reference, r.Amount)).Distinct().ToList();
        outcomes.Count(o => o.Status == HttpStatusCode.Created).Should().Be(distinct.Count, "each (vendor, reference) is posted once");
        foreach (var vendor in new[] { "topup", "giftcard" })
        {
            var expected = distinct.Where(d => d.Vendor == vendor).Sum(d => d.Amount);
            await Eventually.True(async () => await db.Scalar<long>(
                    $"select posted from read.wallet_balances where account = 'platform:vendor:{vendor}:USD'") == -expected,
                TimeSpan.FromSeconds(60), $"the ledger holds exactly {expected} USD at {vendor}");
            (await db.Scalar<long>($"select count(*) from es.events where stream_id = 'vendor-{vendor}' and data::text like '%par-%'"))
                .Should().Be(distinct.Count(d => d.Vendor == vendor));
        }
        var audit = await factory.Services.GetRequiredService<LedgerAudit>().Run();
        audit.Result.Should().Be("clean");
        audit.VendorAccountEvents.Should().BeGreaterThanOrEqualTo(distinct.Count);
        audit.Currencies.Should().OnlyContain(c => c.Balanced);
    }

    [Test, CancelAfter(60_000)]
    public async Task a_vendor_refund_is_its_own_transfer_into_the_vendor_account_and_the_ledger_audit_stays_clean()
    {
        using var finance = await factory.AdminClient("finance");
        (await TopUp(finance, "topup", new { currency = "JPY", amount = 100_000, reference = "jp-1" })).StatusCode.Should().Be(HttpStatusCode.Created);

        var refund = await finance.PostAsJsonAsync("/admin/vendors/topup/refunds",
            new { currency = "JPY", amount = 2_910, reference = "rev-jp-1", orderId = ReversedOrder, reason = "operator reversed the top-up" });
        var repeat = await finance.PostAsJsonAsync("/admin/vendors/topup/refunds",
            new { currency = "JPY", amount = 2_910, reference = "rev-jp-1", orderId = ReversedOrder, reason = "operator reversed the top-up" });
        var noReason = await finance.PostAsJsonAsync("/admin/vendors/topup/refunds", new { currency = "JPY", amount = 1, reference = "rev-jp-2" });

        refund.StatusCode.Should().Be(HttpStatusCode.Created);
        repeat.StatusCode.Should().Be(HttpStatusCode.OK);
        noReason.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        var badOrder = await finance.PostAsJsonAsync("/admin/vendors/topup/refunds",
            new { currency = "JPY", amount = 1, reference = "rev-jp-3", orderId = "o-123", reason = "x" });
        badOrder.StatusCode.Should().Be(HttpStatusCode.BadRequest, "an order id, when given, must be one");
        await Eventually.True(async () => await db.Scalar<long>(
                "select posted from read.wallet_balances where account = 'platform:vendor:topup:JPY'") == -(100_000 + 2_910),
            TimeSpan.FromSeconds(30), "the reversal adds to the prepaid balance");
        (await db.Scalar<long>("select posted from read.wallet_balances where account = 'platform:revenue:JPY'")).Should().Be(2_910);
        (await db.Scalar<string>("select kind from read.ledger_entries where transfer_id = 'rev-jp-1' and account = 'platform:vendor:topup:JPY'"))
            .Should().Be("vendor-refund");
        var audit = await factory.Services.GetRequiredService<LedgerAudit>().Run();
        audit.Drifts.Should().BeEmpty();
        audit.Accounts.Single(a => a.Account == Accounts.VendorPayable("topup", "JPY")).Posted.Should().Be(-(100_000 + 2_910));
    }

    [Test, CancelAfter(60_000)]
    public async Task a_ledger_audit_through_the_api_records_its_run_and_the_runs_page_in_the_one_pagination_shape()
    {
        using var finance = await factory.AdminClient("finance");
        for (var i = 0; i < 3; i++) (await finance.PostAsync("/admin/ledger/audit", null)).EnsureSuccessStatusCode();

        var first = await finance.GetFromJsonAsync<JsonElement>("/admin/audits?kind=ledger&limit=2");
        var items = first.GetProperty("items").EnumerateArray().ToList();
        items.Should().HaveCount(2);
        items.Should().OnlyContain(r => r.GetProperty("kind").GetString() == "ledger" && r.GetProperty("trigger").GetString() == "api"
            && r.GetProperty("eventsFolded").GetInt64() >= 0 && r.GetProperty("driftLines").ValueKind == JsonValueKind.Array
            && r.GetProperty("flagged").ValueKind == JsonValueKind.False);
        items[0].GetProperty("id").GetInt64().Should().BeGreaterThan(items[1].GetProperty("id").GetInt64(), "newest first");
        var next = first.GetProperty("next").GetString();
        next.Should().NotBeNull();
        var second = await finance.GetFromJsonAsync<JsonElement>($"/admin/audits?kind=ledger&limit=2&after={next}");
        second.GetProperty("items").EnumerateArray().Should().NotBeEmpty()
            .And.OnlyContain(r => r.GetProperty("id").GetInt64() < items[1].GetProperty("id").GetInt64());
        (await finance.GetAsync("/admin/audits?kind=nonsense")).StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await finance.GetAsync("/admin/audits?after=not-a-cursor")).StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await db.Scalar<long>("select count(*) from read.audit_runs where kind = 'ledger'")).Should().BeGreaterThanOrEqualTo(3);
    }

    [Test, CancelAfter(60_000)]
    public async Task reconciling_a_vendor_that_is_not_configured_or_not_known_is_refused_by_name()
    {
        using var finance = await factory.AdminClient("finance");
        var notConfigured = await finance.GetAsync("/admin/vendors/giftcard/reconciliation?currency=EUR");
        var unknown = await finance.GetAsync("/admin/vendors/acme/reconciliation?currency=EUR");
        var noCurrency = await finance.GetAsync("/admin/vendors/giftcard/reconciliation");

        notConfigured.StatusCode.Should().Be(HttpStatusCode.UnprocessableEntity);
        (await Code(notConfigured)).Should().Be("vendor_not_configured");
        unknown.StatusCode.Should().Be(HttpStatusCode.NotFound);
        noCurrency.StatusCode.Should().Be(HttpStatusCode.BadRequest);
    }
}
