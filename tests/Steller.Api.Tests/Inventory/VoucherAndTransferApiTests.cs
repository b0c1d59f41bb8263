using Steller.Application.Commands;
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
using Steller.Projections.Inventory;
using Steller.Testing;

namespace Steller.Api.Tests.Inventory;

/// <summary>Voucher codes and moves between locations over HTTP against a real PostgreSQL.</summary>
public sealed class VoucherAndTransferApiTests() : AdminApiFixture("vouchers")
{
    private static string NewSku() => $"v-{Guid.NewGuid():N}"[..20];
    private static List<string> Codes(string prefix, int count) => Enumerable.Range(1, count).Select(i => $"{prefix}-CODE-{Guid.NewGuid():N}").ToList();

    [Test]
    public async Task committed_reservations_get_the_oldest_codes_first_and_each_code_once()
    {
        var sku = NewSku();
        var first = Codes("A", 3);
        var second = Codes("B", 3);
        (await Receive(sku, "main", "r1", first)).StatusCode.Should().Be(HttpStatusCode.Created);
        (await Receive(sku, "main", "r2", second)).StatusCode.Should().Be(HttpStatusCode.Created);

        var assigned = new List<string>();
        foreach (var (reservation, quantity) in new[] { ("res-1", 2), ("res-2", 3) })
        {
            (await client.PostAsJsonAsync($"/admin/inventory/{sku}/main/reservations", new { reservationId = reservation, quantity, orderId = $"order-{reservation}" }))
                .StatusCode.Should().Be(HttpStatusCode.Created);
            var commit = await client.PostAsync($"/admin/inventory/{sku}/main/reservations/{reservation}/commit", null);
            commit.StatusCode.Should().Be(HttpStatusCode.Created);
            var body = await commit.Content.ReadFromJsonAsync<JsonElement>();
            body.GetProperty("voucherIds").EnumerateArray().Select(v => v.GetString()!).Should().HaveCount(quantity);
            assigned.AddRange(body.GetProperty("voucherIds").EnumerateArray().Select(v => v.GetString()!));
            body.ToString().Should().NotContainAny(first.Concat(second), "the admin API names vouchers by id, never by code");
        }

        assigned.Should().Equal("main/r1/1", "main/r1/2", "main/r1/3", "main/r2/1", "main/r2/2");
        // The codes in the commit events open to exactly the codes received, in receipt order.
        var commits = (await StockEvents(sku, "main")).OfType<ReservationCommitted>().ToList();
        var opened = commits.SelectMany(c => c.Vouchers!).Select(v => factory.Services.GetRequiredService<VoucherCodes>().Open(sku, v)).ToList();
        opened.Should().Equal(first.Concat(second.Take(2)));
        var state = (await factory.Services.GetRequiredService<AggregateCommands<Stock, IStockCommand, IStockEvent>>().Load(Stock.StreamName(sku, "main"))).State;
        state.Vouchers.Select(v => v.VoucherId).Should().Equal("main/r2/3");
    }

    [Test]
    public async Task a_receipt_with_the_wrong_number_of_codes_is_refused_naming_the_field_and_writes_nothing()
    {
        var sku = NewSku();
        var response = await Receive(sku, "main", "r1", Codes("X", 2), quantity: 3);
        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        problem.GetProperty("errors").TryGetProperty("voucherCodes", out _).Should().BeTrue();
        (await client.GetAsync($"/admin/inventory/{sku}/main")).StatusCode.Should().Be(HttpStatusCode.NotFound);

        (await Receive(sku, "main", "r1", ["SAME", "SAME"])).StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await Receive(sku, "main", "r1", Codes("C", 2))).StatusCode.Should().Be(HttpStatusCode.Created);
        var plain = await client.PostAsJsonAsync($"/admin/inventory/{sku}/main/receipts", new { receiptId = "r2", quantity = 1, unitCost = 100, currency = "EUR" });
        plain.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await plain.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString().Should().Be("voucher_codes_required");
    }

    [Test]
    public async Task voucher_codes_never_appear_in_plaintext_in_logs_events_or_tables()
    {
        var sku = NewSku();
        var codes = Codes("SECRET", 4);
        (await Receive(sku, "main", "r1", codes)).StatusCode.Should().Be(HttpStatusCode.Created);
        await client.PostAsJsonAsync($"/admin/inventory/{sku}/main/transfers", new { transferId = "t1", toLocation = "shop", quantity = 2 });
        await client.PostAsJsonAsync($"/admin/inventory/{sku}/shop/reservations", new { reservationId = "res-1", quantity = 1, orderId = "order-1" });
        await client.PostAsync($"/admin/inventory/{sku}/shop/reservations/res-1/commit", null);
        // A refused request that carries codes must not echo them either.
        await Receive(sku, "main", "r9", [codes[0], "other"], quantity: 3);
        await Eventually.True(async () => await db.Scalar<long>($"select count(*) from read.stock_levels where sku = '{sku}'") == 2,
            TimeSpan.FromSeconds(30), "the read models saw the stock");

        (await db.Scalar<long>($"select count(*) from es.events where stream_id like 'stock-{sku}.%'")).Should().BeGreaterThan(3);
        foreach (var code in codes)
        {
            factory.Logs.Lines.Should().NotContain(l => l.Contains(code), "a voucher code must never be logged");
            (await db.Scalar<long>($"select count(*) from es.events where data::text like '%{code}%' or metadata::text like '%{code}%'")).Should().Be(0);
            foreach (var table in await db.TablesAndViews())
                (await db.Scalar<long>($"select count(*) from {table} t where t::text like '%{code}%'")).Should().Be(0, $"{table} must not hold a voucher code");
        }
    }

    [Test]
    public async Task a_transfer_moves_units_and_codes_between_locations_and_keeps_the_total()
    {
        var sku = NewSku();
        var codes = Codes("T", 5);
        (await Receive(sku, "main", "r1", codes)).StatusCode.Should().Be(HttpStatusCode.Created);

        var move = await client.PostAsJsonAsync($"/admin/inventory/{sku}/main/transfers", new { transferId = "t1", toLocation = "shop", quantity = 3 });
        move.StatusCode.Should().Be(HttpStatusCode.Created);
        var body = await move.Content.ReadFromJsonAsync<JsonElement>();
        body.GetProperty("from").GetProperty("onHand").GetInt64().Should().Be(2);
        body.GetProperty("to").GetProperty("onHand").GetInt64().Should().Be(3);

        var repeat = await client.PostAsJsonAsync($"/admin/inventory/{sku}/main/transfers", new { transferId = "t1", toLocation = "shop", quantity = 3 });
        repeat.StatusCode.Should().Be(HttpStatusCode.OK, "the same transfer again is a no-op");
        (await client.PostAsJsonAsync($"/admin/inventory/{sku}/main/transfers", new { transferId = "t1", toLocation = "shop", quantity = 1 }))
            .StatusCode.Should().Be(HttpStatusCode.Conflict);

        var commands = factory.Services.GetRequiredService<AggregateCommands<Stock, IStockCommand, IStockEvent>>();
        var shop = (await commands.Load(Stock.StreamName(sku, "shop"))).State;
        shop.Vouchers.Select(v => factory.Services.GetRequiredService<VoucherCodes>().Open(sku, v)).Should().Equal(codes.Take(3));
        (await commands.Load(Stock.StreamName(sku, "main"))).State.Vouchers.Select(v => v.VoucherId).Should().Equal("main/r1/4", "main/r1/5");
    }

    [Test]
    public async Task a_transfer_is_refused_before_anything_moves_when_the_receiving_stock_is_of_another_kind()
    {
        var sku = NewSku();
        (await Receive(sku, "main", "r1", Codes("K", 2))).StatusCode.Should().Be(HttpStatusCode.Created);
        (await client.PostAsJsonAsync($"/admin/inventory/{sku}/shop/receipts", new { receiptId = "p1", quantity = 5, unitCost = 100, currency = "EUR" }))
            .StatusCode.Should().Be(HttpStatusCode.Created);

        var move = await client.PostAsJsonAsync($"/admin/inventory/{sku}/main/transfers", new { transferId = "t1", toLocation = "shop", quantity = 1 });
        move.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await move.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString().Should().Be("voucher_codes_not_expected");
        (await StockEvents(sku, "main")).OfType<StockTransferredOut>().Should().BeEmpty("nothing left the sending location");
    }

    [Test, CancelAfter(120_000)]
    public async Task two_hundred_concurrent_transfers_back_and_forth_never_lose_a_unit_or_go_negative()
    {
        var sku = NewSku();
        (await client.PostAsJsonAsync($"/admin/inventory/{sku}/a/receipts", new { receiptId = "r1", quantity = 50, unitCost = 100, currency = "EUR" })).EnsureSuccessStatusCode();
        (await client.PostAsJsonAsync($"/admin/inventory/{sku}/b/receipts", new { receiptId = "r1", quantity = 50, unitCost = 100, currency = "EUR" })).EnsureSuccessStatusCode();

        var statuses = await Task.WhenAll(Enumerable.Range(0, 200).Select(async i =>
        {
            var (from, to) = i % 2 == 0 ? ("a", "b") : ("b", "a");
            var response = await client.PostAsJsonAsync($"/admin/inventory/{sku}/{from}/transfers", new { transferId = $"t{i}", toLocation = to, quantity = 1 + i % 3 });
            return response.StatusCode;
        }));

        statuses.Should().OnlyContain(s => s == HttpStatusCode.Created || s == HttpStatusCode.UnprocessableEntity);
        var commands = factory.Services.GetRequiredService<AggregateCommands<Stock, IStockCommand, IStockEvent>>();
        var a = (await commands.Load(Stock.StreamName(sku, "a"))).State;
        var b = (await commands.Load(Stock.StreamName(sku, "b"))).State;
        (a.OnHand + b.OnHand).Should().Be(100, "a move changes where units are, never how many");
        a.OnHand.Should().BeGreaterThanOrEqualTo(0);
        b.OnHand.Should().BeGreaterThanOrEqualTo(0);
        a.TransfersOut.Count.Should().Be((await StockEvents(sku, "b")).OfType<StockTransferredIn>().Count(), "every out has its in");

        await Eventually.True(async () => await db.Scalar<long>($"select coalesce(sum(on_hand), 0) from read.stock_levels where sku = '{sku}'") == 100
                && await db.Scalar<long>($"select count(*) from read.stock_levels where sku = '{sku}' and on_hand = {a.OnHand} and location = 'a'") == 1,
            TimeSpan.FromSeconds(60), "read.stock_levels agrees");
        var audit = await factory.Services.GetRequiredService<StockAudit>().Run();
        audit.Drifts.Should().BeEmpty();
    }

    private Task<HttpResponseMessage> Receive(string sku, string location, string receiptId, IReadOnlyList<string> codes, long? quantity = null) =>
        client.PostAsJsonAsync($"/admin/inventory/{sku}/{location}/receipts",
            new { receiptId, quantity = quantity ?? codes.Count, unitCost = 5_00, currency = "EUR", voucherCodes = codes });

    private async Task<List<IStockEvent>> StockEvents(string sku, string location)
    {
        var registry = factory.Services.GetRequiredService<EventTypeRegistry>();
        var slice = await factory.Services.GetRequiredService<IEventStore>().ReadStream(Stock.StreamName(sku, location));
        return slice.Events.Select(e => (IStockEvent)registry.Deserialize(e.Type, e.Data.Span)!).ToList();
    }
}
