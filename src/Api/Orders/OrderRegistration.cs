using Quartz;
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
    /// the poller and the pending-order timeout as Quartz jobs, and the endpoints.
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
        services.AddQuartz(q => q
            .ScheduleJob<FulfilmentPollerJob>(t => t.WithIdentity("fulfilment-poller")
                .WithSimpleSchedule(s => s.WithInterval(TimeSpan.FromMilliseconds(settings.PollIntervalMilliseconds)).RepeatForever()),
                j => j.WithIdentity("fulfilment-poller"))
            .ScheduleJob<PendingOrderTimeoutJob>(t => t.WithIdentity("pending-order-timeout")
                .WithSimpleSchedule(s => s.WithInterval(TimeSpan.FromSeconds(Math.Clamp(settings.PendingTimeoutSeconds / 4, 1, 60)))
                .RepeatForever()), j => j.WithIdentity("pending-order-timeout")));
        services.AddSingleton<IEndpointModule, OrderEndpoints>();
        services.AddSingleton<IEndpointModule, ReportEndpoints>();
        return services;
    }
}
