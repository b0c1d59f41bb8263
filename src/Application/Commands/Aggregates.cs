using Steller.Application.Orders;
using Steller.Domain.Alerts;
using Steller.Domain.Catalog;
using Steller.Domain.Inventory;
using Steller.Domain.Orders;
using Steller.Domain.Partners;
using Steller.Domain.Vendors;
using Steller.Domain.Wallets;

namespace Steller.Application.Commands;

/// <summary>
/// The six aggregates, each run by one <see cref="AggregateCommands{TState,TCommand,TEvent}"/> (registered in
/// <see cref="ApplicationRegistration"/>). Stream names come from the domain: <c>Wallet.StreamName</c>, <c>Stock.StreamName</c>, ...
/// </summary>
public static class Aggregates
{
    public static readonly Aggregate<Partner, IPartnerCommand, IPartnerEvent> Partners = new("partner", Partner.Empty, Partner.Evolve, Partner.Decide);
    public static readonly Aggregate<Wallet, IWalletCommand, IWalletEvent> Wallets = new("wallet", Wallet.Empty, Wallet.Evolve, Wallet.Decide,
        SnapshotVersion: Wallet.SnapshotVersion,
        Memory: new(Wallet.Forget, w => w.Lean, Wallet.Unknown, Wallet.TransferIdsFor, Wallet.Recall, Wallet.RememberAtMost));
    public static readonly Aggregate<Stock, IStockCommand, IStockEvent> StockItems = new("stock", Stock.Empty, Stock.Evolve, Stock.Decide);
    public static readonly Aggregate<Product, IProductCommand, IProductEvent> Products = new("product", Product.Empty, Product.Evolve, Product.Decide);
    public static readonly Aggregate<Alert, IAlertCommand, IAlertEvent> Alerts = new("alert", Alert.Empty, Alert.Evolve, Alert.Decide);
    public static readonly Aggregate<Order, IOrderCommand, IOrderEvent> Orders = new("order", Order.Empty, Order.Evolve, Order.Decide, OrderMetrics.Count);
    public static readonly Aggregate<VendorAccount, IVendorAccountCommand, IVendorAccountEvent> VendorAccounts = new("vendor", VendorAccount.Empty,
        VendorAccount.Evolve, VendorAccount.Decide);
}
