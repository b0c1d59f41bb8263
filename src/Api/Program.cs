using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.Http.Json;
using Prometheus;
using Scalar.AspNetCore;
using Steller.Api.Admin;
using Steller.Api.Alerts;
using Steller.Api.Health;
using Steller.Api.Http;
using Steller.Api.Partners;
using Steller.Api.Orders;
using Steller.Api.Webhooks;
using Steller.Infrastructure.Vendors;
using Steller.Infrastructure;
using Quartz;
using Steller.Application;
using Steller.Infrastructure.Configuration;
using Steller.Infrastructure.Jobs;
using Steller.Infrastructure.Observability;
using Steller.Infrastructure.Crypto;
using Steller.Infrastructure.Postgres;
using Steller.Projections.Engine;

MetricsNoise.Drop();
var builder = WebApplication.CreateBuilder(args);
builder.Configuration.AddEnvironmentVariables("STELLER__");

StellerSettings settings;
AesGcmKeyRing keyRing;
VendorSettings vendors;
Steller.Infrastructure.Webhooks.WebhookOptions webhooks;
Steller.Projections.Alerts.AlertOptions alertOptions;
try
{
    settings = StellerSettings.Load(builder.Configuration);
    keyRing = KeyRingSettings.Load(builder.Configuration, builder.Environment.IsDevelopment());
    vendors = VendorSettings.Load(builder.Configuration);
    webhooks = Steller.Infrastructure.Webhooks.WebhookOptions.Load(builder.Configuration);
    alertOptions = Steller.Projections.Alerts.AlertOptions.Load(builder.Configuration);
    Steller.Api.Vendors.FinanceRegistration.AddFinance(builder.Services, AuditSettings.Load(builder.Configuration));
}
catch (ConfigurationException e)
{
    Console.Error.WriteLine($"steller: configuration error: {e.Message}");
    return 2;
}

builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = settings.Http.MaxRequestBodyBytes);
builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true); // bad JSON reaches the problem mapper
builder.Services.Configure<JsonOptions>(o => JsonBodies.Configure(o.SerializerOptions));
builder.Services.AddStellerProblemDetails();
builder.Services.AddOpenApi(o => o.AddDocumentTransformer((doc, _, _) =>
{
    doc.Info.Title = "Steller API";
    doc.Info.Description =
        "Steller HTTP API. Errors are RFC 9457 problem details with a stable `code` and the request's `correlationId`. Prometheus metrics "
        + "are at /metrics. Input is strict: every text field and parameter states its maxLength and pattern (no control characters, "
        + "no lone surrogates; identifiers also no bidi overrides or other invisible format characters), a JSON key sent twice is "
        + "400 duplicate_json_key, bodies must be application/json (415 otherwise), and methods are case-sensitive.";
    return Task.CompletedTask;
}));
builder.Services.Configure<Microsoft.AspNetCore.OpenApi.OpenApiOptions>("v1", IfMatch.Configure);
builder.Services.Configure<Microsoft.AspNetCore.OpenApi.OpenApiOptions>("v1", TextLimitsOpenApi.Configure);
builder.Services.Configure<Microsoft.AspNetCore.OpenApi.OpenApiOptions>("v1", WebhookOpenApi.Configure);
builder.Services.AddSingleton<SchemaNames>();
builder.Services.AddOptions<Microsoft.AspNetCore.OpenApi.OpenApiOptions>("v1").Configure<SchemaNames>((o, names) => names.Configure(o));
builder.Services.AddStellerStorage(settings);
builder.Services.AddStellerApplication();
builder.Services.AddSingleton<HoldExpiry>();
builder.Services.AddSingleton<ReservationExpiry>();
builder.Services.AddSingleton(settings.Jobs);
builder.Services.AddSingleton<Steller.Projections.Expiry.ExpiryLoops>();
// On one node at a time by advisory lock, not Quartz (issue 11).
builder.Services.AddHostedService(sp => sp.GetRequiredService<Steller.Projections.Expiry.ExpiryLoops>());
builder.Services.AddSingleton(settings.Retention);
builder.Services.AddSingleton<OperationalRetention>();
builder.Services.AddHostedService<WriteTransactionMonitor>();
builder.Services.AddQuartz(q => q.UseStellerJobStore(settings.Jobs)
    .ScheduleJob<CatalogSyncJob>(t => t
    .WithIdentity("catalog-sync")
    .StartAt(DateTimeOffset.UtcNow.AddMinutes(1))
    .WithSimpleSchedule(s => s.WithInterval(TimeSpan.FromMinutes(settings.Jobs.CatalogSyncMinutes)).RepeatForever()),
        j => j.WithIdentity("catalog-sync"))
    .ScheduleJob<RetentionJob>(t => t
    .WithIdentity("retention")
    // A minute after start (sooner only when it runs more often than that: Retention:PurgeSeconds, in tests).
    .StartAt(DateTimeOffset.UtcNow.Add(TimeSpan.FromMinutes(1) < settings.Retention.PurgeInterval ? TimeSpan.FromMinutes(1) : settings.Retention.PurgeInterval))
    .WithSimpleSchedule(s => s.WithInterval(settings.Retention.PurgeInterval).RepeatForever()),
        j => j.WithIdentity("retention")));
builder.Services.AddQuartzHostedService(o => o.WaitForJobsToComplete = true);
builder.Services.AddSingleton<IEndpointModule, Steller.Api.Wallets.WalletEndpoints>();
builder.Services.AddSingleton<IEndpointModule, Steller.Api.Inventory.StockEndpoints>();
builder.Services.AddSingleton<IEndpointModule, Steller.Api.Catalog.CatalogAdminEndpoints>();
builder.Services.AddSingleton<IEndpointModule, Steller.Api.Catalog.PartnerCatalogEndpoints>();
builder.Services.AddStellerVendors(vendors);
builder.Services.AddOrders(settings.Orders);
builder.Services.AddSingleton<IEndpointModule, Steller.Api.Inventory.StockMovementEndpoints>();
builder.Services.AddStellerProjections();
builder.Services.AddProjectionRunner();
builder.Services.AddPartners(keyRing);
builder.Services.AddStellerAdmin();
builder.Services.AddWebhooks(webhooks);
builder.Services.AddAlerts(alertOptions);

var app = builder.Build();

// Migrations run before the server takes traffic; a second run is a no-op.
try { await app.Services.GetRequiredService<Migrator>().Migrate(); }
catch (Exception e) when (e is Npgsql.NpgsqlException or System.Net.Sockets.SocketException)
{
    Console.Error.WriteLine($"steller: cannot reach PostgreSQL at Database:ConnectionString ({e.Message}).");
    return 3;
}

// Sandbox data for ./run.sh: only in Development, only when asked.
if (app.Environment.IsDevelopment() && app.Configuration.GetValue<bool>("Demo:Seed"))
{
    var file = app.Configuration["Demo:CredentialsFile"] ?? Path.Combine(".steller", "demo.txt");
    var url = app.Configuration["Demo:BaseUrl"] ?? "http://127.0.0.1:5080";
    await ActivatorUtilities.CreateInstance<Steller.Api.Demo.DemoData>(app.Services).Seed(file, url, CancellationToken.None);
}

if (settings.Http.TrustedProxies is { Count: > 0 } proxies)
{
    // Only the configured proxies are believed (ASP.NET's default would trust any loopback peer), and only their own hop.
    var forwarded = new ForwardedHeadersOptions { ForwardedHeaders = ForwardedHeaders.XForwardedFor, ForwardLimit = 1 };
    forwarded.KnownIPNetworks.Clear();
    forwarded.KnownProxies.Clear();
    foreach (var proxy in proxies) forwarded.KnownIPNetworks.Add(proxy);
    app.UseForwardedHeaders(forwarded);
}
app.UseMiddleware<Correlation>();
app.UseExceptionHandler();
app.UseMiddleware<MethodCase>();
app.UseStatusCodePages();
app.UseMiddleware<BodyLimit>(settings.Http.MaxRequestBodyBytes);
app.UseHttpMetrics();
app.UsePartnerSignatures();
app.UseStellerAdmin();

app.MapHealth();
// Every module's endpoints check the text they bind (TextInput): no control characters, every field within its length.
var api = app.MapGroup("").AddEndpointFilterFactory(TextInput.Check);
foreach (var module in app.Services.GetServices<IEndpointModule>()) module.Map(api);
app.MapMetrics("/metrics");
app.MapOpenApi("/openapi/{documentName}.json");
app.MapScalarApiReference("/docs", o => o.WithTitle("Steller API").WithOpenApiRoutePattern("/openapi/{documentName}.json"));

await app.RunAsync();
return 0;

public partial class Program;
