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

/// <summary>The vendor simulator on real Kestrel at 127.0.0.1:0, with its logs captured, and a client for /control.</summary>
public sealed class SimulatorHost : IAsyncDisposable
{
    public const string ClientId = "test-client";
    public const string ClientSecret = "test-secret-0f3b";
    public const string AccountId = "test-account";
    public const string ApiKey = "test-api-key-77c1";

    private readonly WebApplication app;
    /// <summary>Every line the simulator logs.</summary>
    public LogCapture Logs { get; }
    public Uri BaseUrl { get; }
    public HttpClient Control { get; }

    private SimulatorHost(WebApplication app, Uri baseUrl, LogCapture logs)
    {
        this.app = app;
        Logs = logs;
        BaseUrl = baseUrl;
        Control = new HttpClient { BaseAddress = baseUrl };
    }

    /// <summary>Gift cards 20 requests/s (burst 5), top-ups 20/s (burst 5): fast tests, still limited.</summary>
    public static async Task<SimulatorHost> Start(params string[] extra)
    {
        var logs = new LogCapture();
        string[] args =
        [
            "--urls=http://127.0.0.1:0",
            $"--Simulator:GiftCard:ClientId={ClientId}", $"--Simulator:GiftCard:ClientSecret={ClientSecret}",
            $"--Simulator:GiftCard:AccountId={AccountId}", $"--Simulator:TopUp:ApiKey={ApiKey}",
            "--Simulator:GiftCard:RateLimit:PerSecond=20", "--Simulator:GiftCard:RateLimit:Burst=5",
            "--Simulator:TopUp:RateLimit:PerSecond=20", "--Simulator:TopUp:RateLimit:Burst=5",
            "--Logging:LogLevel:Default=Information",
            .. extra,
        ];
        var app = SimulatorApp.Create(args, b => b.Logging.AddProvider(logs));
        await app.StartAsync();
        var url = app.Urls.Single();
        new Uri(url).Port.Should().BeGreaterThan(0);
        return new SimulatorHost(app, new Uri(url), logs);
    }

    public Task Reset() => Post("/control/reset", new { });

    public Task Script(object script) => Post("/control/scripts", script);

    public Task RateLimit(string vendor, double perSecond, int burst) => Post("/control/rate-limit", new { vendor, perSecond, burst });

    public async Task<IReadOnlyList<RecordedRequest>> Requests(string vendor, string? operation = null)
    {
        var all = await Control.GetFromJsonAsync<List<RecordedRequest>>($"/control/requests?vendor={vendor}" + (operation is null ? "" : $"&operation={operation}"), SimulatorApp.Json);
        return all!;
    }

    /// <summary>The recorded requests once there are at least <paramref name="count"/> (an abandoned request is recorded when the server notices).</summary>
    public async Task<IReadOnlyList<RecordedRequest>> Requests(string vendor, string operation, int atLeast)
    {
        for (var i = 0; ; i++)
        {
            var found = await Requests(vendor, operation);
            if (found.Count >= atLeast || i == 200) return found;
            await Task.Delay(10);
        }
    }

    public async Task<IReadOnlyList<ControlEndpoints.ControlOrder>> Orders(string vendor) =>
        (await Control.GetFromJsonAsync<List<ControlEndpoints.ControlOrder>>($"/control/orders?vendor={vendor}", SimulatorApp.Json))!;

    private async Task Post(string path, object body)
    {
        using var response = await Control.PostAsJsonAsync(path, body, SimulatorApp.Json);
        response.EnsureSuccessStatusCode();
    }

    public async ValueTask DisposeAsync()
    {
        Control.Dispose();
        await app.StopAsync();
        await app.DisposeAsync();
    }
}

/// <summary>Steller's side: the adapters as AddStellerVendors registers them, pointed at the simulator.</summary>
public sealed class Adapters : IAsyncDisposable
{
    private readonly ServiceProvider provider;
    public LogCapture Logs { get; } = new();
    public IVendorCallObserver Observer { get; }

    public Adapters(SimulatorHost sim, IVendorCallObserver? observer = null, IDictionary<string, string?>? overrides = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Vendors:GiftCard:BaseUrl"] = new Uri(sim.BaseUrl, "/giftcard/").ToString(),
            ["Vendors:GiftCard:ClientId"] = SimulatorHost.ClientId,
            ["Vendors:GiftCard:ClientSecret"] = SimulatorHost.ClientSecret,
            ["Vendors:GiftCard:AccountId"] = SimulatorHost.AccountId,
            ["Vendors:GiftCard:RequestsPerSecond"] = "15",
            ["Vendors:GiftCard:Burst"] = "3",
            ["Vendors:GiftCard:AttemptTimeoutMilliseconds"] = "2000",
            ["Vendors:GiftCard:RetryBaseDelayMilliseconds"] = "20",
            ["Vendors:TopUp:BaseUrl"] = new Uri(sim.BaseUrl, "/topup/").ToString(),
            ["Vendors:TopUp:ApiKey"] = SimulatorHost.ApiKey,
            ["Vendors:TopUp:RequestsPerSecond"] = "15",
            ["Vendors:TopUp:Burst"] = "3",
            ["Vendors:TopUp:AttemptTimeoutMilliseconds"] = "2000",
            ["Vendors:TopUp:RetryBaseDelayMilliseconds"] = "20",
        };
        foreach (var (k, v) in overrides ?? new Dictionary<string, string?>()) settings[k] = v;
        var config = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddLogging(l => l.AddProvider(Logs).SetMinimumLevel(LogLevel.Trace));
        Observer = observer ?? new RecordingObserver();
        services.AddSingleton(Observer);
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

public sealed class LogCapture : ILoggerProvider
{
    public ConcurrentQueue<string> Lines { get; } = new();
    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);
    public void Dispose() { }

    private sealed class Logger(LogCapture capture, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel level, EventId id, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            // The message and every structured value, so a secret in a property that the template leaves out is caught too.
            var values = state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join(",", pairs.Select(p => $"{p.Key}={p.Value}")) : "";
            capture.Lines.Enqueue($"{level} {category}: {formatter(state, exception)} {{{values}}} {exception}");
        }
    }
}
