using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Steller.VendorSimulator;

namespace Steller.Testing;

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
        if (new Uri(url).Port <= 0) throw new InvalidOperationException($"The simulator did not bind a port: {url}");
        return new SimulatorHost(app, new Uri(url), logs);
    }

    public Task Reset() => Post("/control/reset", new { });

    public Task Script(object script) => Post("/control/scripts", script);

    public Task RateLimit(string vendor, double perSecond, int burst) => Post("/control/rate-limit", new { vendor, perSecond, burst });

    /// <summary>Pays money into (negative: takes it from) Steller's prepaid account at the simulated vendor, in major units.</summary>
    public Task TopUpBalance(string vendor, string currency, decimal amount) => Post("/control/balances/top-up", new { vendor, currency, amount });

    /// <summary>The vendor reverses (refunds) its order <paramref name="requestId"/>: the answer (currency, amount, balance, alreadyReversed).</summary>
    public async Task<System.Text.Json.JsonElement> Reverse(string vendor, string requestId)
    {
        using var response = await Control.PostAsync($"/control/orders/{vendor}/{Uri.EscapeDataString(requestId)}/reversal", null);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
    }

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

    /// <summary>Steller's vendor settings pointing at this simulator (fast retries, generous client-side limits below the simulator's).</summary>
    public IReadOnlyDictionary<string, string?> StellerSettings() => new Dictionary<string, string?>
    {
        ["Vendors:GiftCard:BaseUrl"] = new Uri(BaseUrl, "/giftcard/").ToString(),
        ["Vendors:GiftCard:ClientId"] = ClientId,
        ["Vendors:GiftCard:ClientSecret"] = ClientSecret,
        ["Vendors:GiftCard:AccountId"] = AccountId,
        ["Vendors:GiftCard:RequestsPerSecond"] = "15",
        ["Vendors:GiftCard:Burst"] = "3",
        ["Vendors:GiftCard:AttemptTimeoutMilliseconds"] = "2000",
        ["Vendors:GiftCard:RetryBaseDelayMilliseconds"] = "20",
        ["Vendors:TopUp:BaseUrl"] = new Uri(BaseUrl, "/topup/").ToString(),
        ["Vendors:TopUp:ApiKey"] = ApiKey,
        ["Vendors:TopUp:RequestsPerSecond"] = "15",
        ["Vendors:TopUp:Burst"] = "3",
        ["Vendors:TopUp:AttemptTimeoutMilliseconds"] = "2000",
        ["Vendors:TopUp:RetryBaseDelayMilliseconds"] = "20",
    };
}
