using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FluentAssertions;
using Microsoft.Extensions.DependencyInjection;
using NUnit.Framework;
using Steller.Application.Catalog;
using Steller.Client;
using Steller.Testing;

namespace Steller.Api.Tests.Catalog;

/// <summary>The catalog over HTTP against a real PostgreSQL: stocked products, partner prices, filters, pages, validation, the guardrail.</summary>
public sealed class CatalogApiTests() : AdminApiFixture("catalog")
{
    [Test, CancelAfter(60_000)]
    public async Task an_admin_defines_a_stocked_product_a_repeat_changes_nothing_and_a_new_cost_is_in_its_history()
    {
        var first = await Define("voucher-history-25", cost: 20_00);
        first.StatusCode.Should().Be(HttpStatusCode.Created);
        var view = await first.Content.ReadFromJsonAsync<JsonElement>();
        view.GetProperty("source").GetString().Should().Be("stocked");
        view.GetProperty("faceValue").GetInt64().Should().Be(25_00);
        view.GetProperty("costAmount").GetInt64().Should().Be(20_00);

        (await Define("voucher-history-25", cost: 20_00)).StatusCode.Should().Be(HttpStatusCode.OK, "the same content again is already done");
        (await Define("voucher-history-25", cost: 21_00)).StatusCode.Should().Be(HttpStatusCode.Created);
        (await client.DeleteAsync("/admin/catalog/products/voucher-history-25")).StatusCode.Should().Be(HttpStatusCode.OK);

        var live = await client.GetFromJsonAsync<JsonElement>("/admin/catalog/products/voucher-history-25");
        live.GetProperty("active").GetBoolean().Should().BeFalse();
        live.GetProperty("revision").GetInt64().Should().Be(2, "listed, cost changed, delisted: three events, the repeat added none");

        JsonElement history = default;
        await Eventually.True(async () =>
        {
            history = await client.GetFromJsonAsync<JsonElement>("/admin/catalog/products/voucher-history-25/history");
            return history.GetProperty("entries").GetArrayLength() == 3;
        }, TimeSpan.FromSeconds(30), "the cost history shows listed, cost-changed, delisted");
        var entries = history.GetProperty("entries").EnumerateArray().ToList();
        entries.Select(e => e.GetProperty("kind").GetString()).Should().Equal("listed", "cost-changed", "delisted");
        entries[1].GetProperty("previousCostAmount").GetInt64().Should().Be(20_00);
        entries[1].GetProperty("costAmount").GetInt64().Should().Be(21_00);
        (await client.GetAsync("/admin/catalog/products/never-defined/history")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Test, CancelAfter(90_000)]
    public async Task two_partners_with_different_margins_each_see_their_own_price_and_the_available_stock()
    {
        await Define("prices-fixed-25", cost: 24_00, country: "AT");
        await Define("prices-range", country: "AT", min: 10_00, max: 100_00, discountBp: 1_000);
        (await client.PostAsJsonAsync("/admin/inventory/prices-fixed-25/vienna/receipts", new { receiptId = "r1", quantity = 7, unitCost = 24_00, currency = "EUR" })).EnsureSuccessStatusCode();
        (await client.PostAsJsonAsync("/admin/inventory/prices-fixed-25/graz/receipts", new { receiptId = "r2", quantity = 5, unitCost = 24_00, currency = "EUR" })).EnsureSuccessStatusCode();
        using var costPlus = await Partner("prices-cp", "cost-plus", 500);
        using var share = await Partner("prices-ds", "discount-share", 5_000);

        await Eventually.True(async () => (await Items(costPlus, "?country=AT")).Count == 2
                && (await Items(costPlus, "?country=AT")).Single(i => i.GetProperty("sku").GetString() == "prices-fixed-25").GetProperty("available").GetInt64() == 12,
            TimeSpan.FromSeconds(30), "the catalog and stock read models caught up");

        var a = (await Items(costPlus, "?country=AT")).ToDictionary(i => i.GetProperty("sku").GetString()!);
        var b = (await Items(share, "?country=AT")).ToDictionary(i => i.GetProperty("sku").GetString()!);
        a["prices-fixed-25"].GetProperty("unitPrice").GetInt64().Should().Be(25_20, "cost-plus 5% on 24.00");
        b["prices-fixed-25"].GetProperty("unitPrice").GetInt64().Should().Be(24_50, "half of the 1.00 discount back");
        a["prices-fixed-25"].GetProperty("available").GetInt64().Should().Be(12, "7 in Vienna + 5 in Graz");
        a["prices-range"].GetProperty("minUnitPrice").GetInt64().Should().Be(9_45, "cost 9.00 at 10.00, +5%");
        a["prices-range"].GetProperty("maxUnitPrice").GetInt64().Should().Be(94_50);
        b["prices-range"].GetProperty("minUnitPrice").GetInt64().Should().Be(9_50);
        b["prices-range"].GetProperty("maxUnitPrice").GetInt64().Should().Be(95_00);
        a["prices-fixed-25"].TryGetProperty("costAmount", out _).Should().BeFalse("a partner never sees Steller's cost");

        // The quote the order placement will use: live product and margin, same rules.
        var quotes = factory.Services.GetRequiredService<CatalogQuotes>();
        var quote = await quotes.Quote("prices-ds", "prices-range", 33_33, 3, CancellationToken.None);
        quote.Error.Should().BeNull();
        quote.Quote!.Should().BeEquivalentTo(new { UnitCost = 30_00L, UnitPrice = 31_67L, TotalPrice = 95_01L, Currency = "EUR", Source = "stocked", Vendor = (string?)null, IsNegativeMargin = false });
        (await quotes.Quote("prices-ds", "prices-range", 100_01, 1, CancellationToken.None)).Error!.Code.Should().Be("face_value_out_of_range");
        (await quotes.Quote("prices-ds", "prices-range", 50_00, 0, CancellationToken.None)).Error!.Code.Should().Be("invalid_quantity");
        (await quotes.Quote("prices-ds", "no-such-sku", 50_00, 1, CancellationToken.None)).Error!.Code.Should().Be("unknown_sku");
    }

    [Test, CancelAfter(90_000)]
    public async Task the_catalog_filters_by_country_brand_and_type_and_pages_with_a_cursor()
    {
        for (var i = 0; i < 5; i++) await Define($"pages-fr-{i}", cost: 20_00, country: "FR", brand: i % 2 == 0 ? "Fnac" : "Decathlon");
        await Define("pages-fr-topup", cost: 20_00, country: "FR", brand: "Orange", type: "top_up");
        await Define("pages-fr-gone", cost: 20_00, country: "FR", brand: "Fnac");
        (await client.DeleteAsync("/admin/catalog/products/pages-fr-gone")).EnsureSuccessStatusCode();
        using var partner = await Partner("pages-p", "cost-plus", 0);
        // The exact set, not a count: six can also be the moment before the deleted product's definition is applied.
        string[] active = ["pages-fr-0", "pages-fr-1", "pages-fr-2", "pages-fr-3", "pages-fr-4", "pages-fr-topup"];
        await Eventually.True(async () => (await Items(partner, "?country=FR")).Select(Sku).Order(StringComparer.Ordinal).SequenceEqual(active),
            TimeSpan.FromSeconds(30), "six active French products");

        (await Items(partner, "?country=FR&brand=fnac")).Select(Sku).Should().Equal("pages-fr-0", "pages-fr-2", "pages-fr-4");
        (await Items(partner, "?country=FR&type=top_up")).Select(Sku).Should().Equal("pages-fr-topup");
        (await Items(partner, "?country=AT&brand=Orange")).Should().BeEmpty();

        var seen = new List<string>();
        string? after = null;
        var pages = 0;
        do
        {
            var page = await partner.Http.GetFromJsonAsync<JsonElement>($"v1/catalog?country=FR&limit=4{(after is null ? "" : $"&after={after}")}");
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(Sku));
            after = page.GetProperty("next").ValueKind == JsonValueKind.Null ? null : page.GetProperty("next").GetString();
            pages++;
        } while (after is not null);
        pages.Should().Be(2);
        seen.Should().Equal("pages-fr-0", "pages-fr-1", "pages-fr-2", "pages-fr-3", "pages-fr-4", "pages-fr-topup");
    }

    [Test, CancelAfter(60_000)]
    public async Task bad_input_answers_400_naming_every_bad_field()
    {
        using var partner = await Partner("bad-input-p", "cost-plus", 100);
        var response = await partner.Http.GetAsync("v1/catalog?country=de&type=book&limit=0&after=NOT_A_SKU");
        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        problem.GetProperty("code").GetString().Should().Be("validation_failed");
        problem.GetProperty("errors").EnumerateObject().Select(p => p.Name).Should().BeEquivalentTo("country", "type", "limit", "after");

        var put = await client.PutAsJsonAsync("/admin/catalog/products/Bad_Sku", new { name = "", country = "Germany", currency = "eur", type = "book", faceValue = -1, costAmount = 1, costDiscountBasisPoints = 2 });
        put.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await put.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").EnumerateObject().Select(p => p.Name)
            .Should().BeEquivalentTo("sku", "name", "brand", "country", "currency", "type", "faceValue", "cost");

        (await factory.CreateClient().GetAsync("/v1/catalog")).StatusCode.Should().Be(HttpStatusCode.Unauthorized, "the partner catalog is signed");
        using var analyst = await factory.AdminClient("analyst");
        (await analyst.PutAsJsonAsync("/admin/catalog/products/analyst-try", new { })).StatusCode.Should().Be(HttpStatusCode.Forbidden, "defining products is admin-only");
    }

    [Test, CancelAfter(60_000)]
    public async Task a_missing_face_value_or_other_required_field_says_required()
    {
        var put = await client.PutAsJsonAsync("/admin/catalog/products/missing-fields", new { name = "Voucher", currency = "EUR", costAmount = 1 });
        put.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        var errors = (await put.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        errors.EnumerateObject().Select(p => p.Name).Should().BeEquivalentTo("brand", "country", "type", "faceValue");
        foreach (var field in new[] { "brand", "country", "type", "faceValue" })
            errors.GetProperty(field).EnumerateArray().Select(m => m.GetString()).Should().Equal(["required"], field);

        var range = await client.PutAsJsonAsync("/admin/catalog/products/missing-fields",
            new { name = "Voucher", brand = "Steller", country = "DE", currency = "EUR", type = "voucher", maxFaceValue = 50_00 });
        var rangeErrors = (await range.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        rangeErrors.EnumerateObject().Select(p => p.Name).Should().BeEquivalentTo("minFaceValue", "cost");
        rangeErrors.GetProperty("minFaceValue")[0].GetString().Should().Be("required");
        rangeErrors.GetProperty("cost")[0].GetString().Should().Be("required");
    }

    [Test, CancelAfter(60_000)]
    public async Task a_stale_if_match_on_a_product_answers_412_with_the_current_etag_and_changes_nothing()
    {
        (await Define("if-match-25", cost: 20_00)).StatusCode.Should().Be(HttpStatusCode.Created);
        (await Define("if-match-25", cost: 21_00)).StatusCode.Should().Be(HttpStatusCode.Created);

        var stalePut = await WithIfMatch(HttpMethod.Put, "/admin/catalog/products/if-match-25", "\"0\"", new
        {
            name = "Voucher if-match-25", brand = "Steller", country = "DE", currency = "EUR", type = "voucher", faceValue = 25_00, costAmount = 22_00,
        });
        stalePut.StatusCode.Should().Be(HttpStatusCode.PreconditionFailed);
        stalePut.Headers.ETag!.Tag.Should().Be("\"1\"");
        (await stalePut.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString().Should().Be("precondition_failed");
        var staleDelete = await WithIfMatch(HttpMethod.Delete, "/admin/catalog/products/if-match-25", "\"0\"");
        staleDelete.StatusCode.Should().Be(HttpStatusCode.PreconditionFailed);
        staleDelete.Headers.ETag!.Tag.Should().Be("\"1\"");

        var live = await client.GetFromJsonAsync<JsonElement>("/admin/catalog/products/if-match-25");
        (live.GetProperty("revision").GetInt64(), live.GetProperty("costAmount").GetInt64(), live.GetProperty("active").GetBoolean())
            .Should().Be((1L, 21_00L, true), "a stale If-Match changes nothing");

        var delete = await WithIfMatch(HttpMethod.Delete, "/admin/catalog/products/if-match-25", "\"1\"");
        delete.StatusCode.Should().Be(HttpStatusCode.OK, "the current ETag lets the delisting run");
        delete.Headers.ETag!.Tag.Should().Be("\"2\"");
        (await delete.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("active").GetBoolean().Should().BeFalse();
    }

    private Task<HttpResponseMessage> WithIfMatch(HttpMethod method, string url, string etag, object? body = null)
    {
        var request = new HttpRequestMessage(method, url) { Content = body is null ? null : JsonContent.Create(body) };
        request.Headers.TryAddWithoutValidation("If-Match", etag);
        return client.SendAsync(request);
    }

    [Test, CancelAfter(90_000)]
    public async Task a_partner_priced_below_cost_is_listed_and_counted_as_a_negative_margin_until_its_margin_changes()
    {
        // Bought above face value (a premium voucher): cost-plus still earns, a discount share sells at face, below cost.
        await Define("negative-premium", cost: 26_00, face: 25_00);
        using var earns = await Partner("negative-cp", "cost-plus", 500);
        using var loses = await Partner("negative-ds", "discount-share", 5_000);

        JsonElement page = default;
        await Eventually.True(async () =>
        {
            using var answer = await client.GetAsync("/admin/catalog/negative-margins?sku=negative-premium&partnerId=negative-ds");
            if (answer.StatusCode == System.Net.HttpStatusCode.ServiceUnavailable) return false; // read model not ready yet: "try again in a moment"
            page = await answer.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>();
            return page.GetProperty("count").GetInt64() == 1;
        }, TimeSpan.FromSeconds(30), "the guardrail lists the losing pair");
        var pair = page.GetProperty("items")[0];
        (pair.GetProperty("unitPrice").GetInt64(), pair.GetProperty("unitCost").GetInt64(), pair.GetProperty("margin").GetInt64()).Should().Be((25_00L, 26_00L, -1_00L));
        (await client.GetFromJsonAsync<JsonElement>("/admin/catalog/negative-margins?sku=negative-premium&partnerId=negative-cp"))
            .GetProperty("count").GetInt64().Should().Be(0, "cost-plus never sells below cost");
        (await client.GetFromJsonAsync<JsonElement>("/admin/catalog/negative-margins?partnerId=negative-ds"))
            .GetProperty("items").EnumerateArray().Select(i => i.GetProperty("sku").GetString()).Should().Contain("negative-premium");

        (await client.PutAsJsonAsync("/admin/partners/negative-ds/margin", new { basis = "cost-plus", basisPoints = 100 })).EnsureSuccessStatusCode();
        await Eventually.True(async () => (await client.GetFromJsonAsync<JsonElement>("/admin/catalog/negative-margins?sku=negative-premium&partnerId=negative-ds")).GetProperty("count").GetInt64() == 0,
            TimeSpan.FromSeconds(30), "the pair leaves the list once the margin covers the cost");
        var quote = await factory.Services.GetRequiredService<CatalogQuotes>().Quote("negative-cp", "negative-premium", 25_00, 1, CancellationToken.None);
        quote.Quote!.IsNegativeMargin.Should().BeFalse();
        (await client.GetAsync("/admin/catalog/negative-margins?limit=0&partnerId=BAD")).StatusCode.Should().Be(HttpStatusCode.BadRequest);
    }

    private static string Sku(JsonElement item) => item.GetProperty("sku").GetString()!;

    private Task<HttpResponseMessage> Define(string sku, long? cost = null, string country = "DE", string brand = "Steller", string type = "voucher",
        long face = 25_00, long? min = null, long? max = null, int? discountBp = null) =>
        client.PutAsJsonAsync($"/admin/catalog/products/{sku}", new
        {
            name = $"Voucher {sku}", brand, country, currency = "EUR", type,
            faceValue = min is null ? face : (long?)null, minFaceValue = min, maxFaceValue = max,
            costAmount = cost, costDiscountBasisPoints = discountBp,
        });

    private async Task<StellerClient> Partner(string id, string basis, int bp)
    {
        (await client.PostAsJsonAsync("/admin/partners", new { partnerId = id, name = id, contactEmail = $"ops@{id}.test" })).EnsureSuccessStatusCode();
        (await client.PutAsJsonAsync($"/admin/partners/{id}/margin", new { basis, basisPoints = bp })).EnsureSuccessStatusCode();
        var key = await (await client.PostAsync($"/admin/partners/{id}/api-keys", null)).Content.ReadFromJsonAsync<JsonElement>();
        return StellerClient.Create(new Uri(client.BaseAddress!, "/"), key.GetProperty("keyId").GetString()!, key.GetProperty("secret").GetString()!);
    }

    private static async Task<List<JsonElement>> Items(StellerClient partner, string query) =>
        (await partner.Http.GetFromJsonAsync<JsonElement>($"v1/catalog{query}")).GetProperty("items").EnumerateArray().ToList();
}
