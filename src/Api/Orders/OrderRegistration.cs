using Steller.Api.Http;
using Steller.Application.Orders;
using Steller.Application.Orders.Fulfilling;
using Steller.Infrastructure.Configuration;
using Steller.Infrastructure.Orders;
using Steller.Projections.Engine;
using Steller.Projections.Fulfilment;
using Steller.Projections.ProcessManagers;

namespace Steller.Api.Orders;

public static class OrderRegistration
{
    /// <summary>
    /// Orders in the API host: placement and fulfilment use cases (registered with the application), the fulfilment and
    /// aftermath process managers (this host runs them; they call vendors, so they live where the vendor adapters are),
    /// the poller and the pending-order timeout (loops that run on one node of the cluster at a time, see
    /// <see cref="FulfilmentLoops"/>), and the endpoints.
    /// </summary>
    public static IServiceCollection AddOrders(this IServiceCollection services, OrderSettings settings)
    {
        services.AddSingleton(new FulfilmentOptions(settings.MaxVendorAttempts));
        services.AddSingleton(new FulfilmentSchedule(TimeSpan.FromMilliseconds(settings.PollIntervalMilliseconds),
            TimeSpan.FromSeconds(settings.PendingTimeoutSeconds)));
        services.AddSingleton<IStockLocations, ReadModelStockLocations>();
        services.AddSingleton(settings);
        services.AddSingleton<ReadModelVendorBacklog>();
        services.AddSingleton<IVendorBacklog>(sp => sp.GetRequiredService<ReadModelVendorBacklog>());
        services.AddHostedService<VendorBacklogMetrics>();
        services.AddProcessManager<FulfilmentProcess>();
        services.AddProcessManager<OrderAftermath>();
        services.AddSingleton<FulfilmentPoller>();
        services.AddSingleton<PendingOrderTimeout>();
        services.AddSingleton<FulfilmentLoops>();
        services.AddHostedService(sp => sp.GetRequiredService<FulfilmentLoops>()); // on one node at a time, not Quartz
        services.AddSingleton<IEndpointModule, OrderEndpoints>();
        services.AddSingleton<IEndpointModule, ReportEndpoints>();
        return services;
    }
}
