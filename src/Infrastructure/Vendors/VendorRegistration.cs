using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using Steller.Application.Vendors;

namespace Steller.Infrastructure.Vendors;

public static class VendorRegistration
{
    /// <summary>Binds and validates Vendors:GiftCard and Vendors:TopUp, then registers what is configured.</summary>
    public static IServiceCollection AddStellerVendors(this IServiceCollection services, IConfiguration config) =>
        services.AddStellerVendors(VendorSettings.Load(config));

    /// <summary>
    /// Typed HttpClients <see cref="GiftCardVendorClient"/> / <see cref="TopUpVendorClient"/> (each also resolvable as
    /// <see cref="IVendorCatalog"/> and <see cref="IVendorOrders"/>: resolve the enumerables and pick by Vendor) behind the
    /// per-vendor rate gate and resilience pipeline (<see cref="VendorHttpPipeline"/>). Unless an
    /// <see cref="IVendorCallObserver"/> is registered already, observations go to PostgreSQL (needs an NpgsqlDataSource).
    /// </summary>
    public static IServiceCollection AddStellerVendors(this IServiceCollection services, VendorSettings settings)
    {
        services.AddSingleton(settings);
        if (!services.Any(d => d.ServiceType == typeof(IVendorCallObserver)))
        {
            services.AddSingleton(sp => new PostgresVendorCallObserver(sp.GetRequiredService<NpgsqlDataSource>(),
                sp.GetRequiredService<ILogger<PostgresVendorCallObserver>>()));
            services.AddSingleton<IVendorCallObserver>(sp => sp.GetRequiredService<PostgresVendorCallObserver>());
            services.AddHostedService(sp => sp.GetRequiredService<PostgresVendorCallObserver>());
        }

        if (settings.GiftCard is { } gift)
        {
            var gate = new SharedGate(VendorKinds.GiftCard, gift.Http.RequestsPerSecond, gift.Http.Burst);
            services.AddSingleton(gift);
            // Batching needs the batch book in PostgreSQL: without a database (the vendor tests), every line goes alone.
            services.AddSingleton(sp => new GiftCardBatching(sp.GetService<NpgsqlDataSource>() is { } db && gift.MaxLinesPerCheckout > 1
                ? new GiftCardCheckoutBatcher(new CheckoutBatchBook(db), gift.MaxLinesPerCheckout,
                    sp.GetRequiredService<ILogger<GiftCardCheckoutBatcher>>())
                : null));
            services.AddHttpClient(nameof(GiftCardVendorClient)).AddTypedClient<GiftCardVendorClient>((http, sp) => new GiftCardVendorClient(http, gift,
                    sp.GetRequiredService<IVendorCallObserver>(), sp.GetRequiredService<ILogger<GiftCardVendorClient>>(),
                    sp.GetRequiredService<GiftCardBatching>().Batcher))
                .AddVendorPipeline(VendorKinds.GiftCard, gift.Http, gate);
            services.AddTransient<IVendorCatalog>(sp => sp.GetRequiredService<GiftCardVendorClient>());
            services.AddTransient<IVendorOrders>(sp => sp.GetRequiredService<GiftCardVendorClient>());
            services.AddTransient<IVendorBalances>(sp => sp.GetRequiredService<GiftCardVendorClient>());
        }
        if (settings.TopUp is { } topUp)
        {
            var gate = new SharedGate(VendorKinds.TopUp, topUp.Http.RequestsPerSecond, topUp.Http.Burst);
            services.AddSingleton(topUp);
            services.AddHttpClient<TopUpVendorClient>().AddVendorPipeline(VendorKinds.TopUp, topUp.Http, gate);
            services.AddTransient<IVendorCatalog>(sp => sp.GetRequiredService<TopUpVendorClient>());
            services.AddTransient<IVendorOrders>(sp => sp.GetRequiredService<TopUpVendorClient>());
            services.AddTransient<IVendorBalances>(sp => sp.GetRequiredService<TopUpVendorClient>());
        }
        return services;
    }
}

/// <summary>
/// A vendor's gate, made once per service provider: over the database's shared budget when the process has an
/// NpgsqlDataSource (every API node then shares one bucket per vendor), over a bucket of its own otherwise.
/// </summary>
public sealed class SharedGate(string vendor, double requestsPerSecond, int burst)
{
    private VendorRateGate? gate;
    private readonly Lock made = new();

    public VendorRateGate For(IServiceProvider sp)
    {
        lock (made)
            return gate ??= new VendorRateGate(vendor, requestsPerSecond, burst,
                shared: sp.GetService<NpgsqlDataSource>() is { } db ? new PostgresVendorRateBudget(db) : null);
    }
}

/// <summary>The process's one gift-card checkout batcher, or none (no database, or batching set to 1 line).</summary>
public sealed record GiftCardBatching(GiftCardCheckoutBatcher? Batcher) : IDisposable
{
    public void Dispose() => Batcher?.Dispose();
}
