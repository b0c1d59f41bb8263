using Steller.Api.Http;
using Steller.Infrastructure.Webhooks;
using Steller.Projections.Engine;
using Steller.Projections.Webhooks;

namespace Steller.Api.Webhooks;

public static class WebhookRegistration
{
    /// <summary>The routes, the follower that derives messages from the log, and the delivery worker.</summary>
    public static IServiceCollection AddWebhooks(this IServiceCollection services, WebhookOptions options)
    {
        services.AddSingleton(options);
        services.AddSingleton<WebhookStore>();
        services.AddSingleton<WebhookSignal>();
        services.AddSingleton<WebhookEvents>();
        services.AddProcessManager<WebhookMessageFollower>();
        services.AddHostedService<WebhookDelivery>();
        services.AddSingleton<IEndpointModule, WebhookEndpointRoutes>();
        return services;
    }
}
