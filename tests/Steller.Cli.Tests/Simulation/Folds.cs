using Steller.Application.Serialization;
using Steller.Domain.Inventory;
using Steller.Domain.Orders;
using Steller.Domain.Wallets;
using Steller.Testing;

namespace Steller.Cli.Tests.Simulation;

/// <summary>The truth: aggregates folded from their streams in the event store, as the domain folds them.</summary>
public static class Folds
{
    private static readonly EventTypeRegistry Registry = EventTypeRegistry.ForDomain();

    public static async Task<(List<T> Events, long Revision)> Events<T>(TestDatabase db, string stream)
    {
        var slice = await db.CreateEventStore().ReadStream(stream);
        return (slice.Events.Select(e => (T)Registry.Deserialize(e.Type, e.Data.Span)!).ToList(), slice.LastRevision?.Value ?? -1);
    }

    public static async Task<Order> Order(TestDatabase db, string orderId) =>
        (await Events<IOrderEvent>(db, Domain.Orders.Order.StreamName(orderId))).Events.Aggregate(Domain.Orders.Order.Empty, Domain.Orders.Order.Evolve);

    /// <summary>The wallet's final state and the lowest available + credit limit it had after any of its events.</summary>
    public static async Task<(Wallet Wallet, long LowestHeadroom)> Wallet(TestDatabase db, string partnerId)
    {
        var state = Domain.Wallets.Wallet.Empty;
        var lowest = long.MaxValue;
        foreach (var e in (await Events<IWalletEvent>(db, Domain.Wallets.Wallet.StreamName(partnerId, "EUR"))).Events)
        {
            state = Domain.Wallets.Wallet.Evolve(state, e);
            lowest = Math.Min(lowest, state.Available + state.CreditLimit);
        }
        return (state, lowest);
    }

    public static async Task<Stock> Stock(TestDatabase db, string sku, string location) =>
        (await Events<IStockEvent>(db, Domain.Inventory.Stock.StreamName(sku, location))).Events
            .Aggregate(Domain.Inventory.Stock.Empty, Domain.Inventory.Stock.Evolve);
}
