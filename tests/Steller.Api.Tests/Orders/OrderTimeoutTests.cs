using Steller.Application.Commands;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FluentAssertions;
using Microsoft.Extensions.DependencyInjection;
using NUnit.Framework;
using Steller.Application.EventStore;
using Steller.Application.Inventory;
using Steller.Application.Orders;
using Steller.Application.Orders.PlacingOrder;
using Steller.Client;
using Steller.Domain.Inventory;
using Steller.Domain.Wallets;
using Steller.Domain.Orders;
using Steller.Projections.Fulfilment;
using Steller.Testing;

namespace Steller.Api.Tests.Orders;

/// <summary>Orders that never begin fulfilment are cancelled after the pending timeout, and give back what they held.</summary>
public sealed class OrderTimeoutTests() : OrderFixture("ordertimeout")
{
    [Test, CancelAfter(90_000)]
    public async Task a_placement_that_died_after_holding_and_reserving_is_cancelled_after_the_timeout_and_releases_both()
    {
        await StockedVoucher("stuck-voucher", 10_00, 7_00, ["STUCK-1", "STUCK-2"]);
        using var _ = await Partner("stuck-buyer", 100_00);
        // What a placement leaves behind when its process dies between the reservation and "funds held":
        var orderId = Order.IdFor("stuck-buyer", "stuck-1");
        var meta = new EventMetadata("stuck", "stuck", Guid.NewGuid(), "test", factory.Clock.UtcNow);
        var line = new OrderLine(1, "stuck-voucher", 1, 10_00, new LinePricing(10_00, 7_00, "voucher", LineSources.Stocked, null, false));
        (await factory.Services.GetRequiredService<AggregateCommands<Order, IOrderCommand, IOrderEvent>>().Execute(Order.StreamName(orderId),
            new PlaceOrder(orderId, "stuck-buyer", "stuck-1", "h", "EUR", [line], null, null, factory.Clock.UtcNow), meta)).Succeeded.Should().BeTrue();
        (await factory.Services.GetRequiredService<AggregateCommands<Steller.Domain.Wallets.Wallet, IWalletCommand, IWalletEvent>>().Execute(Steller.Domain.Wallets.Wallet.StreamName("stuck-buyer", "EUR"), new PlaceHold(orderId, 10_00, null, orderId, factory.Clock.UtcNow), meta))
            .Succeeded.Should().BeTrue();
        (await factory.Services.GetRequiredService<AggregateCommands<Stock, IStockCommand, IStockEvent>>().Execute(Stock.StreamName("stuck-voucher", "main"),
            new ReserveStock(Order.RequestIdOf(orderId, 1), 1, orderId, null, factory.Clock.UtcNow), meta)).Succeeded.Should().BeTrue();
        await Eventually.True(async () => await db.Scalar<long>($"select count(*) from read.orders where order_id = '{orderId}' and status = 'Placed'") == 1,
            TimeSpan.FromSeconds(30), "read.orders lists the stuck order");

        var timeout = factory.Services.GetRequiredService<PendingOrderTimeout>();
        (await timeout.Pass(CancellationToken.None)).Should().Be(0, "not yet past the timeout");
        factory.Clock.Advance(TimeSpan.FromMinutes(6));
        await timeout.Pass(CancellationToken.None); // the timeout's own loop may have got there first: either way, exactly one cancellation

        var (order, _) = await factory.Services.GetRequiredService<AggregateCommands<Order, IOrderCommand, IOrderEvent>>().Load(Order.StreamName(orderId));
        order.Status.Should().Be(OrderStatus.Cancelled);
        (await Wallet("stuck-buyer")).Should().Be((100_00, 0L), "the hold is released");
        var stock = await admin.GetFromJsonAsync<JsonElement>("/admin/inventory/stuck-voucher/main");
        (stock.GetProperty("onHand").GetInt64(), stock.GetProperty("reserved").GetInt64()).Should().Be((2, 0), "the reservation is released");
    }

    [Test, CancelAfter(90_000)]
    public async Task an_admin_cannot_cancel_an_order_whose_fulfilment_has_begun()
    {
        using var partner = await Partner("started-buyer", 100_00);
        await sim.Script(new { vendor = "giftcard", operation = "checkout", action = "slow", polls = 50 });
        var placed = await partner.PlaceOrder("started-1", [new NewOrderLine(Amazon25, 1, 25_00)]);
        await Eventually.True(async () => (await partner.GetOrder(placed.OrderId)).Status == "Submitted", TimeSpan.FromSeconds(30), "fulfilment began");
        var cancel = await admin.PostAsJsonAsync($"/admin/orders/{placed.OrderId}/cancel", new { reason = "changed my mind" });
        cancel.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await cancel.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString().Should().Be("order_in_fulfilment");
        (await Wallet("started-buyer")).Pending.Should().Be(25_00, "the hold stays for the purchase under way");
    }
}
