using Microsoft.Extensions.DependencyInjection;
using Steller.Application.Catalog;
using Steller.Application.Inventory;
using Steller.Application.Serialization;
using Steller.Application.Wallets;

namespace Steller.Application;

public static class ApplicationRegistration
{
    /// <summary>Use cases and the event type registry (every [EventName] class of the domain).</summary>
    public static IServiceCollection AddStellerApplication(this IServiceCollection services)
    {
        services.AddSingleton(EventTypeRegistry.ForDomain());
        services.AddSingleton<WalletCommands>();
        services.AddSingleton<StockCommands>();
        services.AddSingleton<VoucherCodes>();
        services.AddSingleton<Orders.OrderCommands>();
        services.AddSingleton<Orders.IOrderPricing, Orders.CatalogPricing>();
        services.AddSingleton<Orders.OrderReleases>();
        services.AddSingleton<Orders.PlacingOrder.PlaceOrderHandler>();
        services.AddSingleton<Orders.Cancelling.CancelOrderHandler>();
        services.AddSingleton<Orders.Refunding.RefundOrderHandler>();
        services.AddSingleton<Orders.Retrying.RetryOrderHandler>();
        services.AddSingleton<Orders.Fulfilling.OrderFulfilment>();
        services.AddSingleton<ProductCommands>();
        services.AddSingleton<CatalogQuotes>();
        services.AddSingleton<CatalogSync>();
        return services;
    }
}
