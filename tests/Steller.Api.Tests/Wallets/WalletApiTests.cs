using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FluentAssertions;
using Microsoft.Extensions.DependencyInjection;
using NUnit.Framework;
using Steller.Application.EventStore;
using Steller.Application.Serialization;
using Steller.Domain.Wallets;
using Steller.Infrastructure.Jobs;
using Steller.Testing;

namespace Steller.Api.Tests.Wallets;

/// <summary>Wallet commands over HTTP against a real PostgreSQL: the invariant under attack, idempotency, two-phase holds.</summary>
public sealed class WalletApiTests() : AdminApiFixture("wallets")
{

    [Test, CancelAfter(120_000)]
    public async Task one_thousand_concurrent_holds_never_overdraw_the_wallet()
    {
        var partner = await FundedWallet(500_00);

        var outcomes = new ConcurrentBag<(HttpStatusCode Status, string? Code)>();
        await Task.WhenAll(Enumerable.Range(0, 1_000).Select(async i =>
        {
            var response = await client.PostAsJsonAsync($"/admin/partners/{partner}/wallets/EUR/holds", new { transferId = $"hold-{i}", amount = 1_00 });
            outcomes.Add((response.StatusCode, response.IsSuccessStatusCode ? null : (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString()));
        }));

        outcomes.Count(o => o.Status == HttpStatusCode.Created).Should().Be(500);
        outcomes.Where(o => o.Status != HttpStatusCode.Created).Should().OnlyContain(o => o.Status == HttpStatusCode.UnprocessableEntity && o.Code == "insufficient_funds");
        var wallet = await Wallet(partner);
        wallet.GetProperty("available").GetInt64().Should().Be(0);
        wallet.GetProperty("pending").GetInt64().Should().Be(500_00);
        (await LowestAvailableEver(partner)).Should().BeGreaterThanOrEqualTo(0, "no interleaving may take the wallet below zero, at any revision");

        // The read model catches up and the ledger audit (a fold of the event store) finds no drift and zero-sum currencies.
        await Eventually.True(async () =>
        {
            var list = await client.GetFromJsonAsync<JsonElement>($"/admin/partners/{partner}/wallets");
            return list.GetProperty("wallets").EnumerateArray().Any(w => w.GetProperty("pending").GetInt64() == 500_00);
        }, TimeSpan.FromSeconds(60), "read.wallet_balances shows the 500 holds");
        var audit = await factory.Services.GetRequiredService<Steller.Projections.Wallets.LedgerAudit>().Run();
        audit.Drifts.Should().BeEmpty();
        audit.ComparedWithReadModel.Should().BeTrue();
        audit.Currencies.Should().OnlyContain(c => c.Balanced && c.Sum == 0);
    }

    [Test, CancelAfter(60_000)]
    public async Task fifty_concurrent_submissions_of_one_transfer_id_make_one_transfer()
    {
        var partner = await FundedWallet(0);
        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => Deposit(partner, "dep-same", 10_00, "bank-1")));

        responses.Count(r => r.StatusCode == HttpStatusCode.Created).Should().Be(1);
        responses.Count(r => r.StatusCode == HttpStatusCode.OK).Should().Be(49, "repeats return the original result");
        var bodies = await Task.WhenAll(responses.Select(r => r.Content.ReadFromJsonAsync<JsonElement>()));
        bodies.Select(b => (b.GetProperty("transferId").GetString(), b.GetProperty("amount").GetInt64())).Distinct().Should().ContainSingle();
        (await Wallet(partner)).GetProperty("posted").GetInt64().Should().Be(10_00);
        (await WalletEvents(partner)).OfType<Deposited>().Should().ContainSingle();
    }

    [Test]
    public async Task the_same_transfer_id_with_different_content_is_a_409_idempotency_conflict()
    {
        var partner = await FundedWallet(0);
        (await Deposit(partner, "dep-1", 10_00, "bank-1")).StatusCode.Should().Be(HttpStatusCode.Created);
        var conflict = await Deposit(partner, "dep-1", 20_00, "bank-1");
        conflict.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await conflict.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString().Should().Be("idempotency_conflict");
        (await Wallet(partner)).GetProperty("posted").GetInt64().Should().Be(10_00);
    }

    [Test]
    public async Task capturing_less_than_held_releases_the_remainder_and_a_second_capture_returns_the_first_result()
    {
        var partner = await FundedWallet(100_00);
        await Hold(partner, "h-1", 40_00);

        var first = await client.PostAsJsonAsync($"/admin/partners/{partner}/wallets/EUR/holds/h-1/capture", new { amount = 25_00 });
        first.StatusCode.Should().Be(HttpStatusCode.Created);
        var hold = await first.Content.ReadFromJsonAsync<JsonElement>();
        hold.GetProperty("status").GetString().Should().Be("captured");
        hold.GetProperty("captured").GetInt64().Should().Be(25_00);
        hold.GetProperty("released").GetInt64().Should().Be(15_00);
        hold.GetProperty("wallet").GetProperty("posted").GetInt64().Should().Be(75_00);
        hold.GetProperty("wallet").GetProperty("available").GetInt64().Should().Be(75_00);

        var again = await client.PostAsJsonAsync($"/admin/partners/{partner}/wallets/EUR/holds/h-1/capture", new { amount = 25_00 });
        again.StatusCode.Should().Be(HttpStatusCode.OK);
        (await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("captured").GetInt64().Should().Be(25_00);
        (await WalletEvents(partner)).OfType<HoldCaptured>().Should().ContainSingle();
    }

    [Test]
    public async Task releasing_twice_is_a_no_op_and_capturing_after_release_is_refused()
    {
        var partner = await FundedWallet(100_00);
        await Hold(partner, "h-2", 40_00);

        (await client.PostAsJsonAsync($"/admin/partners/{partner}/wallets/EUR/holds/h-2/release", new { reason = "cancelled" })).StatusCode.Should().Be(HttpStatusCode.Created);
        (await client.PostAsJsonAsync($"/admin/partners/{partner}/wallets/EUR/holds/h-2/release", new { reason = "cancelled" })).StatusCode.Should().Be(HttpStatusCode.OK);
        var capture = await client.PostAsJsonAsync($"/admin/partners/{partner}/wallets/EUR/holds/h-2/capture", new { amount = 40_00 });
        capture.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await capture.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString().Should().Be("hold_released");
        (await Wallet(partner)).GetProperty("available").GetInt64().Should().Be(100_00);
    }

    [Test]
    public async Task a_capture_split_between_vendor_payable_and_revenue_posts_both_legs()
    {
        var partner = await FundedWallet(100_00);
        // A vendor leg credits the payable of a vendor of the hold's order: an order with one line from "bamboo".
        var orderId = Steller.Domain.Orders.Order.IdFor(partner, "split-1");
        var line = new Steller.Domain.Orders.OrderLine(1, "bamboo-card", 1, 50_00,
            new Steller.Domain.Orders.LinePricing(50_00, 45_00, "gift_card", "bamboo", "b-1", false));
        var orders = factory.Services.GetRequiredService<Steller.Application.Commands.AggregateCommands<Steller.Domain.Orders.Order,
            Steller.Domain.Orders.IOrderCommand, Steller.Domain.Orders.IOrderEvent>>();
        (await orders.Execute(Steller.Domain.Orders.Order.StreamName(orderId), new Steller.Domain.Orders.PlaceOrder(orderId, partner, "split-1",
            "h", "EUR", [line], null, null, DateTimeOffset.UtcNow), new EventMetadata("t", "t", Guid.NewGuid(), "test", DateTimeOffset.UtcNow)))
            .Succeeded.Should().BeTrue();
        (await client.PostAsJsonAsync($"/admin/partners/{partner}/wallets/EUR/holds", new { transferId = "h-3", amount = 50_00, orderId }))
            .StatusCode.Should().Be(HttpStatusCode.Created);
        var response = await client.PostAsJsonAsync($"/admin/partners/{partner}/wallets/EUR/holds/h-3/capture",
            new { amount = 50_00, legs = new[] { new { account = "platform:vendor:bamboo:EUR", amount = 45_00 }, new { account = "platform:revenue:EUR", amount = 5_00 } } });
        response.StatusCode.Should().Be(HttpStatusCode.Created);
        var captured = (await WalletEvents(partner)).OfType<HoldCaptured>().Single();
        captured.Legs.Should().BeEquivalentTo([new CaptureLeg("platform:vendor:bamboo:EUR", 45_00), new CaptureLeg("platform:revenue:EUR", 5_00)]);
    }

    [Test]
    public async Task bad_input_names_every_bad_field_and_writes_nothing()
    {
        var partner = await FundedWallet(0);
        var before = (await WalletEvents(partner)).Count;
        var response = await client.PostAsJsonAsync($"/admin/partners/{partner}/wallets/EUR/holds", new { amount = -5 });
        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        problem.GetProperty("code").GetString().Should().Be("validation_failed");
        problem.GetProperty("errors").EnumerateObject().Select(p => p.Name).Should().BeEquivalentTo(["transferId", "amount"]);

        var noKey = await client.PostAsJsonAsync($"/admin/partners/{partner}/wallets/EUR/deposits", new { amount = 5, reference = "r" });
        (await noKey.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("Idempotency-Key", out _).Should().BeTrue();
        (await client.PostAsJsonAsync($"/admin/partners/{partner}/wallets/eur/holds", new { transferId = "x", amount = 1 })).StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await WalletEvents(partner)).Should().HaveCount(before);
    }

    [Test]
    public async Task finance_moves_money_support_only_reads_and_nobody_without_a_token_gets_in()
    {
        var partner = await FundedWallet(10_00);
        using var finance = await factory.AdminClient("finance");
        using var support = await factory.AdminClient("support");
        using var anonymous = factory.CreateClient();

        (await finance.PostAsJsonAsync($"/admin/partners/{partner}/wallets/EUR/holds", new { transferId = "fin-1", amount = 1_00 })).StatusCode.Should().Be(HttpStatusCode.Created);
        (await finance.PostAsJsonAsync($"/admin/partners/{partner}/wallets/EUR/freeze", new { reason = "x" })).StatusCode.Should().Be(HttpStatusCode.Forbidden, "freezing is admin-only");
        (await support.GetAsync($"/admin/partners/{partner}/wallets/EUR")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await support.PostAsJsonAsync($"/admin/partners/{partner}/wallets/EUR/holds", new { transferId = "sup-1", amount = 1_00 })).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await anonymous.PostAsJsonAsync($"/admin/partners/{partner}/wallets/EUR/holds", new { transferId = "anon-1", amount = 1_00 })).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        var events = await WalletEvents(partner);
        events.OfType<HoldPlaced>().Select(h => h.TransferId).Should().Equal("fin-1");
    }

    [Test]
    public async Task a_wallet_cannot_be_opened_for_a_partner_that_was_never_onboarded()
    {
        var response = await client.PostAsJsonAsync("/admin/partners/ghost-partner/wallets", new { currency = "EUR" });
        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString().Should().Be("partner_not_found");
    }

    [Test]
    public async Task a_wallet_that_does_not_exist_is_a_404()
    {
        var partner = await FundedWallet(0);
        var response = await client.PostAsJsonAsync($"/admin/partners/{partner}/wallets/USD/holds", new { transferId = "h", amount = 1 });
        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString().Should().Be("wallet_not_found");
        (await client.GetAsync($"/admin/partners/{partner}/wallets/USD")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [TestCase("GET", "")]
    [TestCase("POST", "", """{"currency":"EUR"}""")]
    [TestCase("GET", "/EUR")]
    [TestCase("GET", "/EUR/statement")]
    [TestCase("POST", "/EUR/deposits", """{"amount":100,"reference":"bank-1"}""")]
    [TestCase("POST", "/EUR/withdrawals", """{"amount":100,"reference":"payout-1"}""")]
    [TestCase("POST", "/EUR/holds", """{"transferId":"h-1","amount":100}""")]
    [TestCase("POST", "/EUR/holds/h-1/capture", """{"amount":100}""")]
    [TestCase("POST", "/EUR/holds/h-1/release", """{"reason":"cancelled"}""")]
    [TestCase("PUT", "/EUR/credit-limit", """{"limit":100}""")]
    [TestCase("POST", "/EUR/transfers", """{"transferId":"t-1","toPartnerId":"ghost-child","amount":100}""")]
    [TestCase("POST", "/EUR/freeze", """{"reason":"review"}""")]
    [TestCase("POST", "/EUR/unfreeze")]
    public async Task a_partner_that_was_never_onboarded_is_404_partner_not_found_on_every_wallet_route(string method, string path, string? body = null)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), $"/admin/partners/ghost-42/wallets{path}");
        if (body is not null) request.Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        request.Headers.Add("Idempotency-Key", "key-1");
        var response = await client.SendAsync(request);
        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString().Should().Be("partner_not_found");
        var events = await factory.Services.GetRequiredService<IEventStore>().ReadStream("wallet-ghost-42-EUR");
        events.Events.Should().BeEmpty("nothing is written for a partner that does not exist");
    }

    [Test]
    public async Task a_stale_if_match_is_412_with_the_current_etag_and_appends_nothing_while_the_current_one_succeeds()
    {
        var partner = await FundedWallet(100_00);
        var seen = (await client.GetAsync($"/admin/partners/{partner}/wallets/EUR")).Headers.ETag!.Tag;
        await Hold(partner, "moves-on", 10_00); // someone else changes the wallet meanwhile
        var current = await Wallet(partner);
        var revision = current.GetProperty("revision").GetInt64();

        var stale = await client.SendAsync(WithIfMatch(HttpMethod.Post, $"/admin/partners/{partner}/wallets/EUR/holds", seen,
            new { transferId = "h-stale", amount = 5_00 }));
        stale.StatusCode.Should().Be(HttpStatusCode.PreconditionFailed);
        (await stale.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString().Should().Be("precondition_failed");
        stale.Headers.ETag!.Tag.Should().Be($"\"{revision}\"", "the refusal names the revision to read and decide again from");
        var staleDeposit = WithIfMatch(HttpMethod.Post, $"/admin/partners/{partner}/wallets/EUR/deposits", seen, new { amount = 5_00, reference = "bank-2" });
        staleDeposit.Headers.Add("Idempotency-Key", "dep-stale");
        (await client.SendAsync(staleDeposit)).StatusCode.Should().Be(HttpStatusCode.PreconditionFailed);
        (await client.SendAsync(WithIfMatch(HttpMethod.Put, $"/admin/partners/{partner}/wallets/EUR/credit-limit", seen, new { limit = 1_00 })))
            .StatusCode.Should().Be(HttpStatusCode.PreconditionFailed);
        var after = await Wallet(partner);
        after.GetProperty("revision").GetInt64().Should().Be(revision);
        after.GetProperty("posted").GetInt64().Should().Be(100_00);
        after.GetProperty("pending").GetInt64().Should().Be(10_00);
        after.GetProperty("creditLimit").GetInt64().Should().Be(0);
        (await WalletEvents(partner)).Should().HaveCount((int)revision + 1, "a stale If-Match appends nothing");

        var ok = await client.SendAsync(WithIfMatch(HttpMethod.Post, $"/admin/partners/{partner}/wallets/EUR/holds", $"\"{revision}\"",
            new { transferId = "h-current", amount = 5_00 }));
        ok.StatusCode.Should().Be(HttpStatusCode.Created);
        ok.Headers.ETag!.Tag.Should().Be($"\"{revision + 1}\"");
        (await Wallet(partner)).GetProperty("pending").GetInt64().Should().Be(15_00);
    }

    [Test]
    public async Task if_match_on_a_transfer_applies_to_the_source_wallet()
    {
        var parent = await FundedWallet(100_00);
        var child = await FundedWallet(0, parent);
        var revision = (await Wallet(parent)).GetProperty("revision").GetInt64();
        var body = new { transferId = "fund-if-match", toPartnerId = child, amount = 30_00 };

        var stale = await client.SendAsync(WithIfMatch(HttpMethod.Post, $"/admin/partners/{parent}/wallets/EUR/transfers", $"\"{revision - 1}\"", body));
        stale.StatusCode.Should().Be(HttpStatusCode.PreconditionFailed);
        stale.Headers.ETag!.Tag.Should().Be($"\"{revision}\"");
        (await Wallet(parent)).GetProperty("posted").GetInt64().Should().Be(100_00);
        (await Wallet(child)).GetProperty("posted").GetInt64().Should().Be(0, "the incoming half is not written either");

        var ok = await client.SendAsync(WithIfMatch(HttpMethod.Post, $"/admin/partners/{parent}/wallets/EUR/transfers", $"\"{revision}\"", body));
        ok.StatusCode.Should().Be(HttpStatusCode.Created);
        (await Wallet(parent)).GetProperty("posted").GetInt64().Should().Be(70_00);
        (await Wallet(child)).GetProperty("posted").GetInt64().Should().Be(30_00);
    }

    [Test]
    public async Task a_malformed_if_match_is_400_invalid_if_match_and_changes_nothing()
    {
        var partner = await FundedWallet(10_00);
        var before = (await WalletEvents(partner)).Count;
        var response = await client.SendAsync(WithIfMatch(HttpMethod.Post, $"/admin/partners/{partner}/wallets/EUR/freeze", "3", new { reason = "x" }));
        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString().Should().Be("invalid_if_match");
        (await WalletEvents(partner)).Should().HaveCount(before);
        (await Wallet(partner)).GetProperty("frozen").GetBoolean().Should().BeFalse();
    }

    [Test]
    public async Task a_missing_deposit_reference_says_required_and_a_blank_one_says_what_it_should_be()
    {
        var partner = await FundedWallet(0);
        var missing = await client.SendAsync(Keyed(HttpMethod.Post, $"/admin/partners/{partner}/wallets/EUR/deposits", "dep-noref", new { amount = 5_00 }));
        missing.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        var errors = (await missing.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        errors.GetProperty("reference").EnumerateArray().Select(e => e.GetString()).Should().Equal("required");

        var blank = await client.SendAsync(Keyed(HttpMethod.Post, $"/admin/partners/{partner}/wallets/EUR/deposits", "dep-blank",
            new { amount = 5_00, reference = " " }));
        (await blank.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").GetProperty("reference")[0].GetString()
            .Should().Be("the external payment reference, at most 128 characters");
        var noAmount = await client.SendAsync(Keyed(HttpMethod.Post, $"/admin/partners/{partner}/wallets/EUR/withdrawals", "wd-1",
            new { reference = "payout" }));
        (await noAmount.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").GetProperty("amount")[0].GetString().Should().Be("required");
        (await WalletEvents(partner)).OfType<Deposited>().Should().BeEmpty();
    }

    [Test]
    public async Task a_credit_limit_lets_holds_go_below_zero_down_to_the_limit_and_no_further()
    {
        var partner = await FundedWallet(10_00);
        (await client.PutAsJsonAsync($"/admin/partners/{partner}/wallets/EUR/credit-limit", new { limit = 5_00 })).StatusCode.Should().Be(HttpStatusCode.Created);
        (await client.PostAsJsonAsync($"/admin/partners/{partner}/wallets/EUR/holds", new { transferId = "c-1", amount = 15_00 })).StatusCode.Should().Be(HttpStatusCode.Created);
        (await client.PostAsJsonAsync($"/admin/partners/{partner}/wallets/EUR/holds", new { transferId = "c-2", amount = 1 })).StatusCode.Should().Be(HttpStatusCode.UnprocessableEntity);
        (await Wallet(partner)).GetProperty("available").GetInt64().Should().Be(-5_00);
    }

    [Test]
    public async Task a_transfer_between_wallets_debits_one_credits_the_other_and_is_idempotent()
    {
        var parent = await FundedWallet(100_00);
        var child = await FundedWallet(0, parent);
        var stranger = await FundedWallet(0);
        var refused = await client.PostAsJsonAsync($"/admin/partners/{parent}/wallets/EUR/transfers", new { transferId = "fund-stranger", toPartnerId = stranger, amount = 1_00 });
        refused.StatusCode.Should().Be(HttpStatusCode.UnprocessableEntity);
        (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString().Should().Be("not_a_sub_partner");
        for (var i = 0; i < 2; i++)
        {
            var r = await client.PostAsJsonAsync($"/admin/partners/{parent}/wallets/EUR/transfers", new { transferId = "fund-child-1", toPartnerId = child, amount = 30_00 });
            r.StatusCode.Should().Be(i == 0 ? HttpStatusCode.Created : HttpStatusCode.OK);
        }
        (await Wallet(parent)).GetProperty("posted").GetInt64().Should().Be(70_00);
        (await Wallet(child)).GetProperty("posted").GetInt64().Should().Be(30_00);
    }

    [Test, CancelAfter(60_000)]
    public async Task an_expired_hold_is_released_once_even_when_a_capture_races_the_expiry_job()
    {
        var partner = await FundedWallet(100_00);
        var expiresAt = factory.Clock.UtcNow.AddMinutes(15);
        (await client.PostAsJsonAsync($"/admin/partners/{partner}/wallets/EUR/holds", new { transferId = "exp-1", amount = 10_00, expiresAt })).StatusCode.Should().Be(HttpStatusCode.Created);
        (await client.PostAsJsonAsync($"/admin/partners/{partner}/wallets/EUR/holds", new { transferId = "exp-2", amount = 20_00, expiresAt })).StatusCode.Should().Be(HttpStatusCode.Created);
        await Eventually.True(async () => await db.Scalar<long>($"select count(*) from read.wallet_open_holds where stream_id = 'wallet-{partner}-EUR'") == 2,
            TimeSpan.FromSeconds(20), "the open-holds read model sees both holds");

        factory.Clock.Advance(TimeSpan.FromMinutes(16));
        var expiry = factory.Services.GetRequiredService<HoldExpiry>();
        var capture = client.PostAsJsonAsync($"/admin/partners/{partner}/wallets/EUR/holds/exp-2/capture", new { amount = 20_00 });
        var released = await Task.WhenAll(expiry.ReleaseExpired(default), expiry.ReleaseExpired(default));
        var captureResponse = await capture;

        var events = await WalletEvents(partner);
        events.OfType<HoldReleased>().Where(r => r.TransferId == "exp-1").Should().ContainSingle().Which.Reason.Should().Be("expired");
        var exp2 = events.Where(e => e is HoldReleased { TransferId: "exp-2" } or HoldCaptured { TransferId: "exp-2" }).ToList();
        exp2.Should().ContainSingle("the capture and the expiry race: exactly one of them wins");
        if (exp2[0] is HoldCaptured) captureResponse.StatusCode.Should().Be(HttpStatusCode.Created);
        else captureResponse.StatusCode.Should().Be(HttpStatusCode.Conflict);
        released.Sum().Should().Be(exp2[0] is HoldReleased ? 2 : 1);
    }

    // ---- helpers ----

    private async Task<string> FundedWallet(long amount, string? parent = null)
    {
        var partner = $"p{Guid.NewGuid():N}"[..12];
        (await client.PostAsJsonAsync("/admin/partners", new { partnerId = partner, name = "Test partner", contactEmail = "ops@example.com", parentPartnerId = parent }))
            .IsSuccessStatusCode.Should().BeTrue();
        (await client.PostAsJsonAsync($"/admin/partners/{partner}/wallets", new { currency = "EUR" })).StatusCode.Should().Be(HttpStatusCode.Created);
        if (amount > 0) (await Deposit(partner, $"seed-{partner}", amount, "seed")).StatusCode.Should().Be(HttpStatusCode.Created);
        return partner;
    }

    private Task<HttpResponseMessage> Deposit(string partner, string key, long amount, string reference)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/admin/partners/{partner}/wallets/EUR/deposits") { Content = JsonContent.Create(new { amount, reference }) };
        request.Headers.Add("Idempotency-Key", key);
        return client.SendAsync(request);
    }

    private static HttpRequestMessage WithIfMatch(HttpMethod method, string path, string ifMatch, object body)
    {
        var request = new HttpRequestMessage(method, path) { Content = JsonContent.Create(body) };
        request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        return request;
    }

    private static HttpRequestMessage Keyed(HttpMethod method, string path, string idempotencyKey, object body)
    {
        var request = new HttpRequestMessage(method, path) { Content = JsonContent.Create(body) };
        request.Headers.Add("Idempotency-Key", idempotencyKey);
        return request;
    }

    private async Task Hold(string partner, string transferId, long amount) =>
        (await client.PostAsJsonAsync($"/admin/partners/{partner}/wallets/EUR/holds", new { transferId, amount })).StatusCode.Should().Be(HttpStatusCode.Created);

    private async Task<JsonElement> Wallet(string partner) => await client.GetFromJsonAsync<JsonElement>($"/admin/partners/{partner}/wallets/EUR");

    private async Task<List<IWalletEvent>> WalletEvents(string partner)
    {
        var registry = factory.Services.GetRequiredService<EventTypeRegistry>();
        var slice = await factory.Services.GetRequiredService<IEventStore>().ReadStream($"wallet-{partner}-EUR");
        return slice.Events.Select(e => (IWalletEvent)registry.Deserialize(e.Type, e.Data.Span)!).ToList();
    }

    /// <summary>Folds the stream event by event: the lowest available balance the wallet ever had.</summary>
    private async Task<long> LowestAvailableEver(string partner)
    {
        var state = Steller.Domain.Wallets.Wallet.Empty;
        var lowest = long.MaxValue;
        foreach (var e in await WalletEvents(partner))
        {
            state = Steller.Domain.Wallets.Wallet.Evolve(state, e);
            lowest = Math.Min(lowest, state.Available + state.CreditLimit);
        }
        return lowest;
    }
}
