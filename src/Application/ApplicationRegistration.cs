using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Steller.Application.Catalog;
using Steller.Application.Commands;
using Steller.Application.Inventory;
using Steller.Application.Pipeline;
using Steller.Application.Serialization;

namespace Steller.Application;

public static class ApplicationRegistration
{
    /// <summary>Use cases, the aggregates' command services and the event type registry (every [EventName] class of the domain).</summary>
    public static IServiceCollection AddStellerApplication(this IServiceCollection services)
    {
        services.AddSingleton(EventTypeRegistry.ForDomain());
        services.AddUseCases(typeof(ApplicationRegistration).Assembly);
        services.AddAggregate(Aggregates.Partners);
        services.AddAggregate(Aggregates.Wallets);
        services.AddAggregate(Aggregates.StockItems);
        services.AddAggregate(Aggregates.Products);
        services.AddAggregate(Aggregates.Orders);
        services.AddAggregate(Aggregates.VendorAccounts);
        services.AddAggregate(Aggregates.Alerts);
        services.AddSingleton<Alerts.IAlerts, Alerts.EventSourcedAlerts>();
        services.AddSingleton<Inventory.TransferringStock.StockTransfers>();
        services.AddSingleton<VoucherCodes>();
        services.AddSingleton<Orders.IOrderPricing, Orders.CatalogPricing>();
        services.TryAddSingleton<Orders.IVendorBacklog, Orders.NoVendorBacklog>(); // the API host adds the real one (the last added wins)
        services.AddSingleton<Orders.OrderReleases>();
        services.AddSingleton<Orders.PlacingOrder.PlaceOrderHandler>();
        services.AddSingleton<Orders.Cancelling.CancelOrderHandler>();
        services.AddSingleton<Orders.Refunding.RefundOrderHandler>();
        services.AddSingleton<Orders.Fulfilling.OrderFulfilment>();
        services.AddSingleton<CatalogQuotes>();
        services.AddSingleton<CatalogSync>();
        return services;
    }
}
