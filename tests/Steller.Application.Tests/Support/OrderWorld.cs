using System.Text;
using FluentAssertions;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Steller.Application.Commands;
using Steller.Application.Crypto;
using Steller.Application.EventStore;
using Steller.Application.Orders;
using Steller.Application.Orders.Fulfilling;
using Steller.Application.Orders.PlacingOrder;
using Steller.Application.Time;
using Steller.Application.Vendors;
using Steller.Domain;
using Steller.Domain.Catalog;
using Steller.Domain.Inventory;
using Steller.Domain.Orders;
using Steller.Domain.Wallets;

namespace Steller.Application.Tests.Support;

/// <summary>
/// The application as the API host wires it (<see cref="ApplicationRegistration.AddStellerApplication"/>, the MediatR
/// pipeline included), on an <see cref="InMemoryEventStore"/>, with a catalog, stock locations and a vendor faked.
/// </summary>
public sealed class OrderWorld : IDisposable
{
    public const string Currency = "EUR";
    public const string GiftCard = "giftcard-101", Voucher = "cinema-10", Location = "main";

    public InMemoryEventStore Store { get; } = new();
    public FakePricing Pricing { get; } = new();
    public FakeStockLocations Locations { get; } = new();
    public FakeVendor Vendor { get; } = new();
    private readonly ServiceProvider services;

    public OrderWorld()
    {
        Pricing.Sell(GiftCard, new LinePricing(25_00, 24_00, "gift_card", FakeVendor.Name, "101", false));
        Pricing.Sell(Voucher, new LinePricing(10_00, 8_00, "voucher", LineSources.Stocked, null, false));
        Locations.Keep(Voucher, Location);

        var collection = new ServiceCollection().AddLogging();
        collection.AddSingleton<IEventStore>(Store);
        collection.AddStellerApplication();
        collection.AddSingleton<IOrderPricing>(Pricing);
        collection.AddSingleton<IStockLocations>(Locations);
        collection.AddSingleton<IVendorOrders>(Vendor);
        collection.AddSingleton<IKeyRing, PlainKeyRing>();
        collection.AddSingleton<IClock>(new FixedClock());
        collection.AddSingleton(new FulfilmentOptions(MaxVendorAttempts: 3));
        services = collection.BuildServiceProvider();
    }

    public IMediator Mediator => services.GetRequiredService<IMediator>();
    public OrderFulfilment Fulfilment => services.GetRequiredService<OrderFulfilment>();
    public AggregateCommands<Order, IOrderCommand, IOrderEvent> Orders => services.GetRequiredService<AggregateCommands<Order, IOrderCommand, IOrderEvent>>();
    public AggregateCommands<Wallet, IWalletCommand, IWalletEvent> Wallets => services.GetRequiredService<AggregateCommands<Wallet, IWalletCommand, IWalletEvent>>();
    public AggregateCommands<Stock, IStockCommand, IStockEvent> StockItems => services.GetRequiredService<AggregateCommands<Stock, IStockCommand, IStockEvent>>();

    public static EventMetadata Metadata(string actor = "test") => new("corr", "cause", Guid.NewGuid(), actor, FixedClock.Now);

    /// <summary>A partner with an open EUR wallet holding <paramref name="funds"/>.</summary>
    public async Task<string> Partner(string partnerId, long funds)
    {
        var stream = Wallet.StreamName(partnerId, Currency);
        (await Wallets.Execute(stream, new OpenWallet(partnerId, Currency), Metadata())).Error.Should().BeNull();
        if (funds > 0) (await Wallets.Execute(stream, new Deposit($"seed-{partnerId}", funds, "seed"), Metadata())).Error.Should().BeNull();
        return partnerId;
    }

    /// <summary><paramref name="quantity"/> units of the stocked voucher at the one location.</summary>
    public async Task Stocked(long quantity) =>
        (await StockItems.Execute(Stock.StreamName(Voucher, Location), new ReceiveStock("r1", quantity, 8_00, Currency), Metadata())).Error.Should().BeNull();

    public Task<PlaceOrderResult> Place(string partnerId, string reference, params PlaceOrderLine[] lines) =>
        Mediator.Send(new PlaceOrderRequest(partnerId, reference, lines, null, Metadata($"partner:{partnerId}")));

    public async Task<Wallet> WalletOf(string partnerId) => (await Wallets.Load(Wallet.StreamName(partnerId, Currency))).State;

    public async Task<Stock> VoucherStock() => (await StockItems.Load(Stock.StreamName(Voucher, Location))).State;

    public async Task<(Order Order, long Revision)> OrderOf(string orderId) => await Orders.Load(Order.StreamName(orderId));

    public int EventsIn(string orderId) => Store.CountIn(Order.StreamName(orderId));

    public void Dispose() => services.Dispose();
}

/// <summary>A catalog of fixed prices; any other sku is unknown.</summary>
public sealed class FakePricing : IOrderPricing
{
    private readonly Dictionary<string, LinePricing> prices = new(StringComparer.Ordinal);

    public void Sell(string sku, LinePricing pricing) => prices[sku] = pricing;

    public Task<LineQuote> Quote(string partnerId, string sku, long faceValue, int quantity, CancellationToken ct = default) =>
        Task.FromResult(prices.TryGetValue(sku, out var pricing)
            ? new LineQuote(pricing, OrderWorld.Currency, null)
            : new LineQuote(null, null, ProductErrors.UnknownSku));
}

public sealed class FakeStockLocations : IStockLocations
{
    private readonly Dictionary<string, List<string>> locations = new(StringComparer.Ordinal);

    public void Keep(string sku, string location) => (locations.TryGetValue(sku, out var list) ? list : locations[sku] = []).Add(location);

    public Task<IReadOnlyList<string>> LocationsOf(string sku, CancellationToken ct = default) =>
        Task.FromResult<IReadOnlyList<string>>(locations.TryGetValue(sku, out var list) ? list : []);
}

/// <summary>A gift-card vendor that delivers every unit, unless told to reject the next purchases.</summary>
public sealed class FakeVendor : IVendorOrders
{
    public const string Name = "giftcard";
    private string? rejection;

    public string Vendor => Name;
    public List<VendorPurchase> Submitted { get; } = [];

    public void RejectWith(string reason) => rejection = reason;
    public void Deliver() => rejection = null;

    public Task<VendorPurchaseResult> Submit(VendorPurchase purchase, CancellationToken ct = default)
    {
        Submitted.Add(purchase);
        return Poll(purchase, ct);
    }

    public Task<VendorPurchaseResult> Poll(VendorPurchase purchase, CancellationToken ct = default) => Task.FromResult(rejection is { } reason
        ? new VendorPurchaseResult(VendorPurchaseStatus.Failed, 0, [], reason)
        : new VendorPurchaseResult(VendorPurchaseStatus.Succeeded, purchase.Quantity,
            Enumerable.Range(1, purchase.Quantity).Select(i => new VendorCard($"SN-{i}", $"CODE-{purchase.RequestId}-{i}", $"PIN-{i}", null)).ToList(), null));
}

/// <summary>Seals nothing: the "ciphertext" is the plaintext, bound to its context only by name. Enough to see who gets codes.</summary>
public sealed class PlainKeyRing : IKeyRing
{
    public string ActiveKeyId => "plain";
    public SealedSecret Encrypt(ReadOnlySpan<byte> plaintext, string context) => new(ActiveKeyId, plaintext.ToArray());
    public byte[] Decrypt(string keyId, ReadOnlySpan<byte> blob, string context) => blob.ToArray();
}

public sealed class FixedClock : IClock
{
    public static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    public DateTimeOffset UtcNow => Now;
}

public static class OrderWorldLines
{
    public static PlaceOrderLine Line(string sku, int quantity, long faceValue) => new(sku, quantity, faceValue);
}
