using Microsoft.Extensions.DependencyInjection;
using Steller.Projections.Engine;

namespace Steller.Projections.Orders;

public static class OrderReadModelsRegistration
{
    /// <summary>The order read models (read.orders, read.order_lines, read.partner_daily_stats) and their query.</summary>
    public static IServiceCollection AddOrderReadModels(this IServiceCollection services)
    {
        services.AddSingleton<IProjection, OrdersProjection>();
        services.AddSingleton<IProjection, PartnerDailyStatsProjection>();
        services.AddSingleton<OrdersQuery>();
        return services;
    }
}
