using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Steller.Application.Vendors;
using Steller.Infrastructure.Vendors;
using Steller.VendorSimulator;
using FluentAssertions;

namespace Steller.Vendors.Tests;

/// <summary>Steller's side: the adapters as AddStellerVendors registers them, pointed at the simulator.</summary>
public sealed class Adapters : IAsyncDisposable
{
    private readonly ServiceProvider provider;
    public LogCapture Logs { get; } = new();
    public IVendorCallObserver Observer { get; }

    /// <param name="database">With a database, gift-card checkouts are batched (their batch book lives there).</param>
    public Adapters(SimulatorHost sim, IVendorCallObserver? observer = null, IDictionary<string, string?>? overrides = null,
        Npgsql.NpgsqlDataSource? database = null)
    {
        var settings = new Dictionary<string, string?>(sim.StellerSettings());
        foreach (var (k, v) in overrides ?? new Dictionary<string, string?>()) settings[k] = v;
        var config = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddLogging(l => l.AddProvider(Logs).SetMinimumLevel(LogLevel.Trace));
        Observer = observer ?? new RecordingObserver();
        services.AddSingleton(Observer);
        if (database is not null) services.AddSingleton(database);
        services.AddStellerVendors(config);
        provider = services.BuildServiceProvider();
    }

    public GiftCardVendorClient GiftCard => provider.GetRequiredService<GiftCardVendorClient>();
    public TopUpVendorClient TopUp => provider.GetRequiredService<TopUpVendorClient>();
    public T Get<T>() where T : notnull => provider.GetRequiredService<T>();

    public ValueTask DisposeAsync() => provider.DisposeAsync();
}

public sealed class RecordingObserver : IVendorCallObserver
{
    public ConcurrentQueue<VendorCallObservation> Calls { get; } = new();
    public ConcurrentQueue<(string Vendor, int Products)> Syncs { get; } = new();
    public void Called(VendorCallObservation call) => Calls.Enqueue(call);
    public void CatalogSynced(string vendor, int products, DateTimeOffset at) => Syncs.Enqueue((vendor, products));
}
