using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using FluentAssertions;
using NUnit.Framework;
using Steller.Projections.Inventory;
using Steller.Testing;

namespace Steller.Api.Tests.Inventory;

/// <summary>Stock movements and low stock over HTTP (read models on a real PostgreSQL): paging, CSV, validation, roles.</summary>
public sealed class StockMovementApiTests() : AdminApiFixture("stockmovements")
{
    private int next;

    [Test, CancelAfter(180_000)]
    public async Task walking_the_movement_pages_while_stock_keeps_moving_yields_every_movement_once_in_stream_order()
    {
        var (sku, location) = await Stocked(1_000);
        var writes = Task.Run(async () =>
        {
            await Task.WhenAll(Enumerable.Range(0, 4).Select(async writer =>
            {
                for (var i = writer; i < 120; i += 4)
                {
                    (await client.PostAsJsonAsync($"/admin/inventory/{sku}/{location}/reservations", new { reservationId = $"res-{i}", quantity = 1, orderId = $"order-{i}" }))
                        .StatusCode.Should().Be(HttpStatusCode.Created);
                    if (i % 3 == 0)
                        (await client.PostAsync($"/admin/inventory/{sku}/{location}/reservations/res-{i}/commit", null)).StatusCode.Should().Be(HttpStatusCode.Created);
                }
            }));
        });

        // Walk while the writers run: every page continues exactly where the last one stopped.
        var seen = new List<JsonElement>();
        string? cursor = null;
        var pages = 0;
        while (!writes.IsCompleted)
        {
            var page = await client.GetFromJsonAsync<JsonElement>($"/admin/inventory/{sku}/{location}/movements?limit=7" + (cursor is null ? "" : $"&after={cursor}"));
            seen.AddRange(page.GetProperty("items").EnumerateArray());
            pages++;
            cursor = page.GetProperty("next").GetString();
            if (cursor is null) { cursor = LastCursor(seen); await Task.Delay(20); } // caught up with the read model: poll from the last row
        }
        await writes;
        pages.Should().BeGreaterThan(1);

        // Then finish the walk once the read model has every movement (120 reserved + 40 committed after the receipt).
        await Eventually.True(async () => await db.Scalar<long>($"select count(*) from read.stock_movements where sku = '{sku}'") == 161,
            TimeSpan.FromSeconds(60), "read.stock_movements has all 161 movements");
        for (cursor = LastCursor(seen); cursor is not null;)
        {
            var page = await client.GetFromJsonAsync<JsonElement>($"/admin/inventory/{sku}/{location}/movements?limit=50&after={cursor}");
            seen.AddRange(page.GetProperty("items").EnumerateArray());
            cursor = page.GetProperty("next").GetString();
        }

        seen.Select(m => m.GetProperty("streamRevision").GetInt64()).Should().Equal(Enumerable.Range(0, 161).Select(i => (long)i), "no duplicate and no gap");
        seen.Count(m => m.GetProperty("kind").GetString() == "reserved").Should().Be(120);
        seen.Count(m => m.GetProperty("kind").GetString() == "committed").Should().Be(40);
        long onHand = 0, reserved = 0;
        foreach (var m in seen)
        {
            onHand += m.GetProperty("onHandDelta").GetInt64();
            reserved += m.GetProperty("reservedDelta").GetInt64();
            (m.GetProperty("onHandAfter").GetInt64(), m.GetProperty("reservedAfter").GetInt64()).Should().Be((onHand, reserved));
        }
        (onHand, reserved).Should().Be((960L, 80L));
        seen.Where(m => m.GetProperty("kind").GetString() == "committed")
            .Select(m => (m.GetProperty("reference").GetString(), m.GetProperty("orderId").GetString()))
            .Should().OnlyContain(p => p.Item2 == "order-" + p.Item1!.Substring(4), "a commit carries the order of its reservation");
    }

    /// <summary>A cursor that continues after the last row seen (the API's own encoding, as a client would have received it).</summary>
    private static string? LastCursor(List<JsonElement> seen) =>
        seen.Count == 0 ? null : StockMovementsQuery.MovementsCursor(seen[^1].GetProperty("streamRevision").GetInt64());

    [Test, CancelAfter(60_000)]
    public async Task accept_text_csv_gives_a_header_and_one_line_per_movement_and_from_to_narrow_the_range()
    {
        var (sku, location) = await Stocked(10);
        (await client.PostAsJsonAsync($"/admin/inventory/{sku}/{location}/adjustments", new { adjustmentId = "adj-1", quantity = -2, reason = "damaged" }))
            .StatusCode.Should().Be(HttpStatusCode.Created);
        (await client.PostAsJsonAsync($"/admin/inventory/{sku}/{location}/reservations", new { reservationId = "res-1", quantity = 3, orderId = "order-9" }))
            .StatusCode.Should().Be(HttpStatusCode.Created);
        (await client.PostAsJsonAsync($"/admin/inventory/{sku}/{location}/reservations/res-1/release", new { reason = "cancelled" }))
            .StatusCode.Should().Be(HttpStatusCode.Created);
        await Movements(sku, location, 4);

        var request = new HttpRequestMessage(HttpMethod.Get, $"/admin/inventory/{sku}/{location}/movements");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/csv"));
        var response = await client.SendAsync(request);
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.Should().Be("text/csv");
        var lines = (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();
        lines[0].Should().Be(StockMovementsQuery.CsvHeader);
        lines.Should().HaveCount(5);
        var released = lines[4].Split(',');
        (released[0], released[2], released[3], released[4], released[5], released[6], released[7], released[8], released[9])
            .Should().Be(("3", "released", "0", "-3", "8", "0", "cancelled", "res-1", "order-9"));
        lines[2].Split(',')[2..5].Should().Equal(["adjusted", "-2", "0"], "deltas are plain signed numbers");

        // from (inclusive) and to (exclusive) split the movements at an instant: together all of them, none twice.
        var all = (await client.GetFromJsonAsync<JsonElement>($"/admin/inventory/{sku}/{location}/movements")).GetProperty("items").EnumerateArray().ToList();
        var at = all[2].GetProperty("recordedAt").GetString()!;
        var since = (await client.GetFromJsonAsync<JsonElement>($"/admin/inventory/{sku}/{location}/movements?from={Uri.EscapeDataString(at)}")).GetProperty("items").EnumerateArray().ToList();
        var before = (await client.GetFromJsonAsync<JsonElement>($"/admin/inventory/{sku}/{location}/movements?to={Uri.EscapeDataString(at)}")).GetProperty("items").EnumerateArray().ToList();
        since.Should().NotBeEmpty().And.OnlyContain(m => m.GetProperty("recordedAt").GetDateTime() >= all[2].GetProperty("recordedAt").GetDateTime());
        before.Concat(since).Select(m => m.GetProperty("streamRevision").GetInt64()).Should().Equal(0L, 1L, 2L, 3L);
        var csvSince = new HttpRequestMessage(HttpMethod.Get, $"/admin/inventory/{sku}/{location}/movements?from={Uri.EscapeDataString(at)}");
        csvSince.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/csv"));
        (await (await client.SendAsync(csvSince)).Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Should().HaveCount(1 + since.Count, "the CSV honours the same range");
    }

    [Test, CancelAfter(60_000)]
    public async Task bad_query_parameters_are_a_400_naming_the_parameter()
    {
        async Task<string?> Parameter(string url)
        {
            var response = await client.GetAsync(url);
            response.StatusCode.Should().Be(HttpStatusCode.BadRequest, url);
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
            return problem.TryGetProperty("parameter", out var p) ? p.GetString()
                : string.Join(",", problem.GetProperty("errors").EnumerateObject().Select(e => e.Name));
        }

        const string movements = "/admin/inventory/sku-1/loc-1/movements";
        (await Parameter($"{movements}?limit=0")).Should().Be("limit");
        (await Parameter($"{movements}?limit=1001")).Should().Be("limit");
        (await Parameter($"{movements}?limit=ten")).Should().Be("limit");
        (await Parameter($"{movements}?from=yesterday")).Should().Be("from");
        (await Parameter($"{movements}?to=2026-13-01")).Should().Be("to");
        (await Parameter($"{movements}?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z")).Should().Be("from");
        (await Parameter($"{movements}?after=nonsense")).Should().Be("after");
        (await Parameter($"{movements}?after={OpaqueCursor.Encode("l:a/b")}")).Should().Be("after", "a low-stock cursor is not a movements cursor");
        (await Parameter("/admin/inventory/Bad SKU/-x/movements")).Should().Be("sku,location");
        (await Parameter("/admin/inventory/low-stock?limit=-1")).Should().Be("limit");
        (await Parameter("/admin/inventory/low-stock?after=!!!")).Should().Be("after");
        (await Parameter($"/admin/inventory/low-stock?after={StockMovementsQuery.MovementsCursor(3)}")).Should().Be("after");
    }

    [Test, CancelAfter(60_000)]
    public async Task an_analyst_can_read_movements_and_low_stock_and_a_request_without_a_token_is_401()
    {
        var (sku, location) = await Stocked(5);
        await Movements(sku, location, 1);
        using var analyst = await factory.AdminClient("analyst");
        var page = await analyst.GetFromJsonAsync<JsonElement>($"/admin/inventory/{sku}/{location}/movements");
        page.GetProperty("items").GetArrayLength().Should().Be(1);
        (await analyst.GetAsync("/admin/inventory/low-stock")).StatusCode.Should().Be(HttpStatusCode.OK);
        // Reading is not changing: the analyst still cannot receive stock.
        (await analyst.PostAsJsonAsync($"/admin/inventory/{sku}/{location}/receipts", new { receiptId = "x", quantity = 1, unitCost = 1, currency = "EUR" }))
            .StatusCode.Should().Be(HttpStatusCode.Forbidden);

        using var anonymous = factory.CreateClient();
        (await anonymous.GetAsync($"/admin/inventory/{sku}/{location}/movements")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await anonymous.GetAsync("/admin/inventory/low-stock")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
    }

    [Test, CancelAfter(90_000)]
    public async Task low_stock_lists_the_items_low_right_now_in_pages_and_drops_one_that_recovers()
    {
        var prefix = $"low{Guid.NewGuid():N}"[..10];
        var skus = Enumerable.Range(0, 5).Select(i => $"{prefix}-{i}").ToArray();
        foreach (var sku in skus)
        {
            (await client.PostAsJsonAsync($"/admin/inventory/{sku}/wh-1/receipts", new { receiptId = "r1", quantity = 3, unitCost = 100, currency = "EUR" }))
                .StatusCode.Should().Be(HttpStatusCode.Created);
            (await client.PutAsJsonAsync($"/admin/inventory/{sku}/wh-1/low-threshold", new { threshold = 5 })).StatusCode.Should().Be(HttpStatusCode.Created);
        }
        (await client.PostAsJsonAsync($"/admin/inventory/{skus[2]}/wh-1/receipts", new { receiptId = "r2", quantity = 10, unitCost = 100, currency = "EUR" }))
            .StatusCode.Should().Be(HttpStatusCode.Created);

        async Task<List<JsonElement>> Walk()
        {
            var all = new List<JsonElement>();
            string? cursor = null;
            do
            {
                var page = await client.GetFromJsonAsync<JsonElement>("/admin/inventory/low-stock?limit=2" + (cursor is null ? "" : $"&after={cursor}"));
                page.GetProperty("items").GetArrayLength().Should().BeLessThanOrEqualTo(2);
                all.AddRange(page.GetProperty("items").EnumerateArray());
                cursor = page.GetProperty("next").GetString();
            } while (cursor is not null);
            return all.Where(i => i.GetProperty("sku").GetString()!.StartsWith(prefix)).ToList();
        }

        // Wait for the final state, not a count: read models apply events as they become visible, so "four low" can also be
        // the moment when the fifth item's threshold is not applied yet and the restock of the third is not either.
        string[] expected = [skus[0], skus[1], skus[3], skus[4]];
        await Eventually.True(async () => (await Walk()).Select(i => i.GetProperty("sku").GetString()).SequenceEqual(expected),
            TimeSpan.FromSeconds(30), "four items are low, the restocked one is not");
        var low = await Walk();
        low.Select(i => i.GetProperty("sku").GetString()).Should().Equal(expected);
        low.Should().OnlyContain(i => i.GetProperty("available").GetInt64() == 3 && i.GetProperty("threshold").GetInt64() == 5);
        low.Should().OnlyContain(i => i.GetProperty("lowSince").GetDateTime() > DateTime.UtcNow.AddMinutes(-5));
    }

    private async Task<(string Sku, string Location)> Stocked(long quantity)
    {
        var sku = $"mv-{Interlocked.Increment(ref next)}-{Guid.NewGuid():N}"[..20];
        const string location = "warehouse-1";
        var response = await client.PostAsJsonAsync($"/admin/inventory/{sku}/{location}/receipts", new { receiptId = "first", quantity, unitCost = 4_50, currency = "EUR" });
        response.StatusCode.Should().Be(HttpStatusCode.Created);
        return (sku, location);
    }

    private Task Movements(string sku, string location, int count) =>
        Eventually.True(async () => await db.Scalar<long>($"select count(*) from read.stock_movements where sku = '{sku}' and location = '{location}'") == count,
            TimeSpan.FromSeconds(30), $"read.stock_movements has {count} movements of {sku}");
}
