using Microsoft.Extensions.DependencyInjection.Extensions;
using Steller.Api.Http;
using Steller.Api.Partners.Signing;
using Steller.Application.Crypto;
using Steller.Application.Partners;
using Steller.Application.Partners.AuthenticatingRequests;
using Steller.Application.Partners.IssuingApiKey;
using Steller.Application.Partners.OnboardingPartner;
using Steller.Application.Partners.ReactivatingPartner;
using Steller.Application.Partners.RevokingApiKey;
using Steller.Application.Partners.SettingIpAllowlist;
using Steller.Application.Partners.SettingMargin;
using Steller.Application.Partners.SuspendingPartner;
using Steller.Application.Serialization;
using Steller.Domain.Partners;
using Steller.Infrastructure.Postgres;

namespace Steller.Api.Partners;

public static class PartnerRegistration
{
    /// <summary>Partners: the key ring, the use cases, the admin and partner endpoints, signed-request verification.</summary>
    public static IServiceCollection AddPartners(this IServiceCollection services, IKeyRing keyRing)
    {
        services.AddSingleton(keyRing);
        services.TryAddSingleton(_ => EventTypeRegistry.ForDomain());
        services.AddSingleton<ApiKeyResolver>();
        services.AddSingleton<INonceLedger, PostgresNonceLedger>();
        services.AddHostedService<NoncePruner>();
        services.AddSingleton<PostgresApiKeyUsage>();
        services.AddSingleton<IApiKeyUsage>(sp => sp.GetRequiredService<PostgresApiKeyUsage>());
        services.AddHostedService<ApiKeyUsageFlusher>();
        services.AddSingleton<IEndpointModule, PartnerKeyEndpoints>();
        services.AddSingleton<RateLimiting.RequestRateLimits>();
        services.AddHostedService<RateLimiting.RateLimitPruner>();
        services.AddSingleton<RequestLog.PartnerRequestLog>();
        services.AddHostedService<RequestLog.RequestLogWriter>();
        services.AddSingleton<IEndpointModule, RequestLog.PartnerRequestEndpoints>();
        services.AddSingleton<IEndpointModule, AdminPartnerEndpoints>();
        services.AddSingleton<IEndpointModule, PartnerApiEndpoints>();
        return services;
    }

    /// <summary>
    /// Every /v1 request must carry a valid RFC 9421 signature before it reaches an endpoint; the partner's request log wraps
    /// the check (so rate-limited answers are logged too).
    /// </summary>
    public static IApplicationBuilder UsePartnerSignatures(this IApplicationBuilder app) =>
        app.UseWhen(c => c.Request.Path.StartsWithSegments("/v1"), v1 =>
        {
            if (app.ApplicationServices.GetRequiredService<Steller.Infrastructure.Configuration.StellerSettings>().Partners.RequestLogEnabled)
                v1.UseMiddleware<RequestLog.PartnerRequestLogging>();
            v1.UseMiddleware<PartnerSignatures>();
        });
}

/// <summary>
/// Writes the keys' "last used at" every Partners:KeyUsageFlushSeconds (one upsert for all keys used since the last
/// flush), and once more when the node stops.
/// </summary>
public sealed class ApiKeyUsageFlusher(PostgresApiKeyUsage usage, Steller.Infrastructure.Configuration.StellerSettings settings,
    ILogger<ApiKeyUsageFlusher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(settings.Partners.KeyUsageFlushSeconds));
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken)) await Flush(stoppingToken);
        }
        catch (OperationCanceledException) { }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await Flush(cancellationToken);
    }

    private async Task Flush(CancellationToken ct)
    {
        try { await usage.Flush(ct); }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning("Writing API key usage failed (kept for the next flush): {Error}", e.Message);
        }
    }
}

/// <summary>Forgets expired signature nonces once a minute (any node may do it; the delete is idempotent).</summary>
public sealed class NoncePruner(INonceLedger nonces, ILogger<NoncePruner> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(1));
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try { await nonces.Prune(stoppingToken); }
            catch (Exception e) when (e is not OperationCanceledException) { logger.LogWarning("Pruning signature nonces failed: {Error}",
                e.Message); }
        }
    }
}
