using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Steller.Api.Http;
using Steller.Testing;

namespace Steller.Api.Tests;

/// <summary>The real API host on real Kestrel (loopback, random port) over a fresh database, with its logs captured.</summary>
public sealed class ApiFactory(TestDatabase db, int maxBodyBytes = 4096, bool withTestEndpoints = true, IReadOnlyDictionary<string, string?>? settings = null)
    : WebApplicationFactory<Program>
{
    public LogCapture Logs { get; } = new();
    /// <summary>The API's clock: tests move it (hold expiry).</summary>
    public TestClock Clock { get; } = new();
    public static readonly string MasterKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Database:ConnectionString", db.ConnectionString);
        builder.UseSetting("Http:MaxRequestBodyBytes", maxBodyBytes.ToString());
        builder.UseSetting("Projections:RetryDelayMilliseconds", "50");
        builder.UseSetting("Security:MasterKey", MasterKey); // never the Development key file from a test
        // Quartz scheduler names are unique within a process, and several test hosts may live in one test process.
        builder.UseSetting("Jobs:SchedulerName", $"test-{Guid.NewGuid():N}");
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>()) builder.UseSetting(key, value);
        builder.ConfigureLogging(l => l.AddProvider(Logs));
        builder.ConfigureTestServices(s =>
        {
            s.AddSingleton<Steller.Application.Time.IClock>(Clock);
            if (withTestEndpoints) s.AddSingleton<IEndpointModule, EchoEndpoints>();
        });
    }

    /// <summary>A client carrying a fresh admin bearer token with <paramref name="role"/> (call after the server started: it has migrated).</summary>
    public async Task<HttpClient> AdminClient(string role = "admin")
    {
        var token = await new Steller.Infrastructure.Admin.AdminTokens(db.DataSource).Create($"test-{role}-{Guid.NewGuid():N}"[..20], role, DateTimeOffset.UtcNow);
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token.Token);
        return client;
    }

    /// <summary>
    /// Waits until every read model of the host is registered (its tables and views exist). Each projection registers when
    /// its worker first takes the leadership, a moment after the host starts; until then a query on its view is answered
    /// 503 read_model_unavailable (right for a client, a race for a test that queries at once).
    /// </summary>
    public Task ReadModelsRegistered()
    {
        var names = Services.GetServices<Steller.Projections.Engine.IProjection>().Select(p => p.Name).ToList();
        var store = Services.GetRequiredService<Steller.Projections.Engine.ProjectionStore>();
        return Eventually.True(async () => (await store.Unregistered(names, CancellationToken.None)).Count == 0,
            TimeSpan.FromSeconds(60), "every read model is registered");
    }

    /// <summary>Starts Kestrel on 127.0.0.1 and returns a client for it.</summary>
    public HttpClient StartKestrel()
    {
        UseKestrel(0);
        StartServer();
        return CreateClient();
    }
}

/// <summary>A JSON endpoint for exercising the pipeline's handling of bodies (feature slices add the real ones).</summary>
public sealed class EchoEndpoints : IEndpointModule
{
    public sealed record EchoRequest(string Name, int Count);

    public void Map(IEndpointRouteBuilder app)
    {
        app.MapPost("/test/echo", (EchoRequest request, ILogger<EchoEndpoints> log) =>
        {
            log.LogInformation("Echoing {Name}", request.Name);
            return Results.Ok(request);
        });
        // Behind the partner signature check: signed requests with a body.
        app.MapPost("/v1/test/echo", (EchoRequest request, Steller.Api.Partners.AuthenticatedPartner partner) =>
            Results.Ok(new { partner.PartnerId, request.Name, request.Count }));
    }
}

public sealed class TestClock : Steller.Application.Time.IClock
{
    private long offsetTicks;
    public DateTimeOffset UtcNow => DateTimeOffset.UtcNow.AddTicks(Interlocked.Read(ref offsetTicks));
    public void Advance(TimeSpan by) => Interlocked.Add(ref offsetTicks, by.Ticks);
}
