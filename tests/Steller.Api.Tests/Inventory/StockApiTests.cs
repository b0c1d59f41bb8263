using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FluentAssertions;
using Microsoft.Extensions.DependencyInjection;
using NUnit.Framework;
using Steller.Application.EventStore;
using Steller.Application.Inventory;
using Steller.Application.Serialization;
using Steller.Domain.Inventory;
using Steller.Infrastructure.Jobs;
using Steller.Testing;

namespace Steller.Api.Tests.Inventory;

/// <summary>Stock commands over HTTP against a real PostgreSQL: the no-oversell invariant under attack, idempotency, validation.</summary>
public sealed class StockApiTests() : AdminApiFixture("inventory")
{
    private int next;

    [Test, CancelAfter(120_000)]
    public async Task five_hundred_concurrent_single_unit_reservations_against_100_units_never_oversell()
    {
        var (sku, location) = await Stocked(100);

        var outcomes = new ConcurrentBag<(HttpStatusCode Status, string? Code)>();
        await Task.WhenAll(Enumerable.Range(0, 500).Select(async i =>
        {
            var response = await client.PostAsJsonAsync($"/admin/inventory/{sku}/{location}/reservations", new { reservationId = $"res-{i}", quantity = 1, orderId = $"order-{i}" });
            outcomes.Add((response.StatusCode, response.IsSuccessStatusCode ? null : (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString()));
        }));

        outcomes.Count(o => o.Status == HttpStatusCode.Created).Should().Be(100);
        outcomes.Where(o => o.Status != HttpStatusCode.Created).Should().HaveCount(400)
            .And.OnlyContain(o => o.Status == HttpStatusCode.UnprocessableEntity && o.Code == "stock_exhausted");
        var level = await Level(sku, location);
        level.GetProperty("onHand").GetInt64().Should().Be(100);
        level.GetProperty("reserved").GetInt64().Should().Be(100);
        level.GetProperty("available").GetInt64().Should().Be(0);
        (await LowestAvailableEver(sku, location)).Should().BeGreaterThanOrEqualTo(0, "no interleaving may oversell, at any revision");

        await Eventually.True(async () => await db.Scalar<long>(
                $"select count(*) from read.stock_levels where sku = '{sku}' and location = '{location}' and on_hand = 100 and reserved = 100 and available = 0") == 1,
            TimeSpan.FromSeconds(60), "read.stock_levels shows the 100 reservations");
        var audit = await factory.Services.GetRequiredService<Steller.Projections.Inventory.StockAudit>().Run();
        audit.Drifts.Should().BeEmpty();
        audit.ComparedWithReadModel.Should().BeTrue();
    }

    [Test, CancelAfter(120_000)]
    public async Task fifty_concurrent_checkouts_of_the_same_product_leave_exactly_the_expected_counts()
    {
        var (sku, location) = await Stocked(80);

        var committed = new ConcurrentBag<int>();
        await Task.WhenAll(Enumerable.Range(0, 50).Select(async i =>
        {
            var reserve = await client.PostAsJsonAsync($"/admin/inventory/{sku}/{location}/reservations", new { reservationId = $"co-{i}", quantity = 1, orderId = $"order-{i}" });
            reserve.StatusCode.Should().Be(HttpStatusCode.Created);
            var commit = await client.PostAsync($"/admin/inventory/{sku}/{location}/reservations/co-{i}/commit", null);
            commit.StatusCode.Should().Be(HttpStatusCode.Created);
            committed.Add(i);
        }));

        committed.Should().HaveCount(50);
        var level = await Level(sku, location);
        level.GetProperty("onHand").GetInt64().Should().Be(30);
        level.GetProperty("reserved").GetInt64().Should().Be(0);
        level.GetProperty("available").GetInt64().Should().Be(30);
        var events = await StockEvents(sku, location);
        events.OfType<StockReserved>().Should().HaveCount(50);
        events.OfType<ReservationCommitted>().Should().HaveCount(50);
        (await LowestAvailableEver(sku, location)).Should().BeGreaterThanOrEqualTo(0);
    }

    [Test, CancelAfter(60_000)]
    public async Task a_reservation_is_idempotent_by_id_and_other_content_under_it_is_a_409()
    {
        var (sku, location) = await Stocked(10);
        var url = $"/admin/inventory/{sku}/{location}/reservations";

        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => client.PostAsJsonAsync(url, new { reservationId = "same", quantity = 2, orderId = "order-1" })));
        responses.Count(r => r.StatusCode == HttpStatusCode.Created).Should().Be(1);
        responses.Count(r => r.StatusCode == HttpStatusCode.OK).Should().Be(19, "repeats return the original result");
        (await Level(sku, location)).GetProperty("reserved").GetInt64().Should().Be(2);

        var conflict = await client.PostAsJsonAsync(url, new { reservationId = "same", quantity = 3, orderId = "order-1" });
        conflict.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await conflict.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString().Should().Be("idempotency_conflict");

        var body = await responses[0].Content.ReadFromJsonAsync<JsonElement>();
        body.GetProperty("status").GetString().Should().Be("open");
        var expiresAt = body.GetProperty("expiresAt").GetDateTimeOffset();
        expiresAt.Should().BeCloseTo(factory.Clock.UtcNow.AddMinutes(15), TimeSpan.FromMinutes(1), "the default expiry is 15 minutes");
    }

    [Test, CancelAfter(60_000)]
    public async Task release_then_commit_is_refused_release_twice_is_a_no_op_and_an_unknown_reservation_is_404()
    {
        var (sku, location) = await Stocked(5);
        var baseUrl = $"/admin/inventory/{sku}/{location}/reservations";
        (await client.PostAsJsonAsync(baseUrl, new { reservationId = "r1", quantity = 5, orderId = "o1" })).StatusCode.Should().Be(HttpStatusCode.Created);

        (await client.PostAsJsonAsync($"{baseUrl}/r1/release", new { reason = "cancelled" })).StatusCode.Should().Be(HttpStatusCode.Created);
        (await client.PostAsJsonAsync($"{baseUrl}/r1/release", new { reason = "cancelled" })).StatusCode.Should().Be(HttpStatusCode.OK);
        var commit = await client.PostAsync($"{baseUrl}/r1/commit", null);
        commit.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await commit.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString().Should().Be("reservation_released");
        (await client.PostAsync($"{baseUrl}/nope/commit", null)).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await Level(sku, location)).GetProperty("available").GetInt64().Should().Be(5);
    }

    [Test, CancelAfter(60_000)]
    public async Task an_adjustment_below_what_is_reserved_is_refused_and_low_stock_is_flagged()
    {
        var (sku, location) = await Stocked(10);
        (await client.PostAsJsonAsync($"/admin/inventory/{sku}/{location}/reservations", new { reservationId = "r1", quantity = 6, orderId = "o1" })).StatusCode.Should().Be(HttpStatusCode.Created);

        var refused = await client.PostAsJsonAsync($"/admin/inventory/{sku}/{location}/adjustments", new { adjustmentId = "a1", quantity = -5, reason = "damaged" });
        refused.StatusCode.Should().Be(HttpStatusCode.UnprocessableEntity);
        (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString().Should().Be("insufficient_stock");

        (await client.PostAsJsonAsync($"/admin/inventory/{sku}/{location}/adjustments", new { adjustmentId = "a2", quantity = -4, reason = "damaged" })).StatusCode.Should().Be(HttpStatusCode.Created);
        var set = await client.PutAsJsonAsync($"/admin/inventory/{sku}/{location}/low-threshold", new { threshold = 2 });
        set.StatusCode.Should().Be(HttpStatusCode.Created);
        var level = await Level(sku, location);
        level.GetProperty("onHand").GetInt64().Should().Be(6);
        level.GetProperty("available").GetInt64().Should().Be(0);
        level.GetProperty("low").GetBoolean().Should().BeTrue();
        await Eventually.True(async () => await db.Scalar<long>(
                $"select count(*) from read.stock_levels where sku = '{sku}' and location = '{location}' and on_hand = 6 and reserved = 6 and available = 0 and low_threshold = 2 and low") == 1,
            TimeSpan.FromSeconds(30), "read.stock_levels flags the item low");
    }

    [Test, CancelAfter(60_000)]
    public async Task an_expired_reservation_is_released_once_even_when_a_commit_races_the_expiry_job()
    {
        var (sku, location) = await Stocked(10);
        var url = $"/admin/inventory/{sku}/{location}/reservations";
        (await client.PostAsJsonAsync(url, new { reservationId = "exp-1", quantity = 1, orderId = "o1" })).StatusCode.Should().Be(HttpStatusCode.Created);
        (await client.PostAsJsonAsync(url, new { reservationId = "exp-2", quantity = 2, orderId = "o2" })).StatusCode.Should().Be(HttpStatusCode.Created);
        var stream = Stock.StreamName(sku, location);
        await Eventually.True(async () => await db.Scalar<long>($"select count(*) from read.stock_open_reservations where stream_id = '{stream}'") == 2,
            TimeSpan.FromSeconds(20), "the open-reservations read model sees both reservations");

        factory.Clock.Advance(TimeSpan.FromMinutes(16)); // past the default 15 minutes
        var expiry = factory.Services.GetRequiredService<ReservationExpiry>();
        var commit = client.PostAsync($"{url}/exp-2/commit", null);
        await Task.WhenAll(expiry.ReleaseExpired(default), expiry.ReleaseExpired(default));
        var commitResponse = await commit;

        var events = await StockEvents(sku, location);
        events.OfType<ReservationReleased>().Where(r => r.ReservationId == "exp-1").Should().ContainSingle().Which.Reason.Should().Be("expired");
        var exp2 = events.Where(e => e is ReservationReleased { ReservationId: "exp-2" } or ReservationCommitted { ReservationId: "exp-2" }).ToList();
        exp2.Should().ContainSingle("the commit and the expiry race: exactly one of them wins");
        if (exp2[0] is ReservationCommitted) commitResponse.StatusCode.Should().Be(HttpStatusCode.Created);
        else commitResponse.StatusCode.Should().Be(HttpStatusCode.Conflict);
        var level = await Level(sku, location);
        level.GetProperty("reserved").GetInt64().Should().Be(0);
        level.GetProperty("onHand").GetInt64().Should().Be(exp2[0] is ReservationCommitted ? 8 : 10);
    }

    [Test]
    public async Task bad_input_is_a_400_naming_every_invalid_field()
    {
        async Task<IEnumerable<string>> Fields(HttpResponseMessage response)
        {
            response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
            problem.GetProperty("code").GetString().Should().Be("validation_failed");
            return problem.GetProperty("errors").EnumerateObject().Select(p => p.Name).ToList();
        }

        (await Fields(await client.PostAsJsonAsync("/admin/inventory/Bad SKU/-x/receipts", new { receiptId = "", quantity = 0, unitCost = -1, currency = "eur" })))
            .Should().BeEquivalentTo(["sku", "location", "receiptId", "quantity", "unitCost", "currency"]);
        (await Fields(await client.PostAsJsonAsync("/admin/inventory/sku-1/loc-1/adjustments", new { quantity = 0, reason = "stolen" })))
            .Should().BeEquivalentTo(["adjustmentId", "quantity", "reason"]);
        (await Fields(await client.PostAsJsonAsync("/admin/inventory/sku-1/loc-1/reservations", new { reservationId = "r 1", quantity = -1 })))
            .Should().BeEquivalentTo(["reservationId", "quantity", "orderId"]);
        (await Fields(await client.PostAsJsonAsync("/admin/inventory/sku-1/loc-1/reservations/r1/release", new { reason = "bored" })))
            .Should().BeEquivalentTo(["reason"]);
        (await Fields(await client.PutAsJsonAsync("/admin/inventory/sku-1/loc-1/low-threshold", new { threshold = -1 })))
            .Should().BeEquivalentTo(["threshold"]);
        (await client.GetAsync("/admin/inventory/never-seen/loc-1")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Test]
    public async Task a_receipt_is_idempotent_by_id_and_the_level_carries_the_revision_as_etag()
    {
        var (sku, location) = await Stocked(7);
        var again = await client.PostAsJsonAsync($"/admin/inventory/{sku}/{location}/receipts", new { receiptId = "first", quantity = 7, unitCost = 4_50, currency = "EUR" });
        again.StatusCode.Should().Be(HttpStatusCode.OK);
        var other = await client.PostAsJsonAsync($"/admin/inventory/{sku}/{location}/receipts", new { receiptId = "first", quantity = 8, unitCost = 4_50, currency = "EUR" });
        other.StatusCode.Should().Be(HttpStatusCode.Conflict);
        var response = await client.GetAsync($"/admin/inventory/{sku}/{location}");
        response.Headers.ETag!.Tag.Should().Be("\"0\"");
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("onHand").GetInt64().Should().Be(7);
    }

    [Test, CancelAfter(60_000)]
    public async Task the_stock_list_filters_by_sku_location_and_low_and_pages_with_a_cursor()
    {
        var (sku, _) = await Stocked(10);
        (await client.PostAsJsonAsync($"/admin/inventory/{sku}/warehouse-2/receipts", new { receiptId = "first", quantity = 3, unitCost = 4_50, currency = "EUR" }))
            .StatusCode.Should().Be(HttpStatusCode.Created);
        (await client.PutAsJsonAsync($"/admin/inventory/{sku}/warehouse-2/low-threshold", new { threshold = 5 })).StatusCode.Should().Be(HttpStatusCode.Created);

        await Eventually.True(async () =>
        {
            var all = await client.GetFromJsonAsync<JsonElement>($"/admin/inventory?sku={sku}");
            return all.GetProperty("items").GetArrayLength() == 2 && all.GetProperty("items")[1].GetProperty("low").GetBoolean();
        }, TimeSpan.FromSeconds(30), "read.stock_levels has both locations, one low");

        var low = await client.GetFromJsonAsync<JsonElement>($"/admin/inventory?sku={sku}&low=true");
        low.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("location").GetString()).Should().Equal("warehouse-2");
        var first = await client.GetFromJsonAsync<JsonElement>($"/admin/inventory?sku={sku}&limit=1");
        first.GetProperty("items")[0].GetProperty("location").GetString().Should().Be("warehouse-1");
        var next = first.GetProperty("next").GetString();
        var second = await client.GetFromJsonAsync<JsonElement>($"/admin/inventory?sku={sku}&limit=1&after={next}");
        second.GetProperty("items")[0].GetProperty("location").GetString().Should().Be("warehouse-2");
        second.GetProperty("next").ValueKind.Should().Be(JsonValueKind.Null);

        var bad = await client.GetAsync("/admin/inventory?sku=BAD&location=-x&low=maybe");
        bad.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await bad.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").EnumerateObject().Select(p => p.Name).Should().BeEquivalentTo(["sku", "location", "low"]);
        (await client.GetAsync("/admin/inventory?after=nonsense")).StatusCode.Should().Be(HttpStatusCode.BadRequest);
    }

    [Test, CancelAfter(60_000)]
    public async Task a_stale_if_match_on_any_stock_command_answers_412_with_the_current_etag_and_appends_nothing()
    {
        var (sku, location) = await Stocked(10);
        var url = $"/admin/inventory/{sku}/{location}";
        (await client.PostAsJsonAsync($"{url}/reservations", new { reservationId = "held", quantity = 2, orderId = "o1" })).StatusCode
            .Should().Be(HttpStatusCode.Created);
        var before = await Level(sku, location);
        before.GetProperty("revision").GetInt64().Should().Be(1);
        var eventsBefore = (await StockEvents(sku, location)).Count;

        var commands = new (HttpMethod Method, string Path, object? Body)[]
        {
            (HttpMethod.Post, "/receipts", new { receiptId = "second", quantity = 1, unitCost = 4_50, currency = "EUR" }),
            (HttpMethod.Post, "/adjustments", new { adjustmentId = "a1", quantity = -1, reason = "damaged" }),
            (HttpMethod.Post, "/reservations", new { reservationId = "r2", quantity = 1, orderId = "o2" }),
            (HttpMethod.Post, "/reservations/held/commit", null),
            (HttpMethod.Post, "/reservations/held/release", new { reason = "cancelled" }),
            (HttpMethod.Put, "/low-threshold", new { threshold = 3 }),
            (HttpMethod.Post, "/transfers", new { transferId = "t1", toLocation = "warehouse-9", quantity = 1 }),
        };
        foreach (var (method, path, body) in commands)
        {
            var response = await WithIfMatch(method, url + path, body, "\"0\"");
            response.StatusCode.Should().Be(HttpStatusCode.PreconditionFailed, $"{method} {path} names revision 0, the item is at 1");
            (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString().Should().Be("precondition_failed");
            response.Headers.ETag!.Tag.Should().Be("\"1\"", "a 412 carries the current ETag");
        }

        (await StockEvents(sku, location)).Should().HaveCount(eventsBefore, "a stale If-Match appends nothing");
        var after = await Level(sku, location);
        foreach (var field in new[] { "revision", "onHand", "reserved", "available", "lowThreshold" })
            after.GetProperty(field).GetInt64().Should().Be(before.GetProperty(field).GetInt64(), field);
        (await client.GetAsync($"/admin/inventory/{sku}/warehouse-9")).StatusCode.Should().Be(HttpStatusCode.NotFound, "nothing was moved");

        var current = await WithIfMatch(HttpMethod.Post, $"{url}/reservations/held/commit", null, "\"1\"");
        current.StatusCode.Should().Be(HttpStatusCode.Created, "the current ETag lets the command run");
        current.Headers.ETag!.Tag.Should().Be("\"2\"");
        var moved = await WithIfMatch(HttpMethod.Post, $"{url}/transfers", new { transferId = "t1", toLocation = "warehouse-9", quantity = 1 }, "\"2\"");
        moved.StatusCode.Should().Be(HttpStatusCode.Created, "a transfer's If-Match names the sending location");
        moved.Headers.ETag!.Tag.Should().Be("\"3\"");
        (await Level(sku, "warehouse-9")).GetProperty("onHand").GetInt64().Should().Be(1);
        (await client.PostAsJsonAsync($"{url}/adjustments", new { adjustmentId = "a2", quantity = 1, reason = "found" })).StatusCode
            .Should().Be(HttpStatusCode.Created, "without If-Match nothing is checked");
    }

    [Test]
    public async Task a_missing_field_says_required()
    {
        var response = await client.PostAsJsonAsync("/admin/inventory/sku-1/loc-1/receipts", new { unitCost = 1 });
        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        var errors = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        foreach (var field in new[] { "receiptId", "quantity", "currency" })
            errors.GetProperty(field).EnumerateArray().Select(m => m.GetString()).Should().Equal(["required"], field);
        var threshold = await client.PutAsJsonAsync("/admin/inventory/sku-1/loc-1/low-threshold", new { });
        (await threshold.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").GetProperty("threshold")[0].GetString().Should().Be("required");
    }

    private Task<HttpResponseMessage> WithIfMatch(HttpMethod method, string url, object? body, string etag)
    {
        var request = new HttpRequestMessage(method, url) { Content = body is null ? null : JsonContent.Create(body) };
        request.Headers.TryAddWithoutValidation("If-Match", etag);
        return client.SendAsync(request);
    }

    private async Task<(string Sku, string Location)> Stocked(long quantity)
    {
        var sku = $"sku-{Interlocked.Increment(ref next)}-{Guid.NewGuid():N}"[..20];
        const string location = "warehouse-1";
        var response = await client.PostAsJsonAsync($"/admin/inventory/{sku}/{location}/receipts", new { receiptId = "first", quantity, unitCost = 4_50, currency = "EUR" });
        response.StatusCode.Should().Be(HttpStatusCode.Created);
        return (sku, location);
    }

    private async Task<JsonElement> Level(string sku, string location) => await client.GetFromJsonAsync<JsonElement>($"/admin/inventory/{sku}/{location}");

    private async Task<List<IStockEvent>> StockEvents(string sku, string location)
    {
        var registry = factory.Services.GetRequiredService<EventTypeRegistry>();
        var slice = await factory.Services.GetRequiredService<IEventStore>().ReadStream(Stock.StreamName(sku, location));
        return slice.Events.Select(e => (IStockEvent)registry.Deserialize(e.Type, e.Data.Span)!).ToList();
    }

    /// <summary>Folds the stream event by event: the lowest available stock the item ever had.</summary>
    private async Task<long> LowestAvailableEver(string sku, string location)
    {
        var state = Stock.Empty;
        var lowest = long.MaxValue;
        foreach (var e in await StockEvents(sku, location))
        {
            state = Stock.Evolve(state, e);
            lowest = Math.Min(lowest, state.Available);
        }
        return lowest;
    }
}
