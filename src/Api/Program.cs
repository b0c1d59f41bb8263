using Microsoft.AspNetCore.Http.Json;
using Prometheus;
using Scalar.AspNetCore;
using Steller.Api.Admin;
using Steller.Api.Health;
using Steller.Api.Http;
using Steller.Infrastructure;
using Steller.Infrastructure.Configuration;
using Steller.Infrastructure.Postgres;
using Steller.Projections.Engine;

var builder = WebApplication.CreateBuilder(args);
builder.Configuration.AddEnvironmentVariables("STELLER__");

StellerSettings settings;
try { settings = StellerSettings.Load(builder.Configuration); }
catch (ConfigurationException e)
{
    Console.Error.WriteLine($"steller: configuration error: {e.Message}");
    return 2;
}

builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = settings.Http.MaxRequestBodyBytes);
builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true); // bad JSON reaches the problem mapper
builder.Services.Configure<JsonOptions>(o => o.SerializerOptions.PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.CamelCase);
builder.Services.AddStellerProblemDetails();
builder.Services.AddOpenApi(o => o.AddDocumentTransformer((doc, _, _) =>
{
    doc.Info.Title = "Steller API";
    doc.Info.Description = "Steller HTTP API. Errors are RFC 9457 problem details with a stable `code` and the request's `correlationId`. Prometheus metrics are at /metrics.";
    return Task.CompletedTask;
}));
builder.Services.AddStellerStorage(settings);
builder.Services.AddStellerProjections();
builder.Services.AddProjectionRunner();
builder.Services.AddStellerAdmin();

var app = builder.Build();

// Migrations run before the server takes traffic; a second run is a no-op.
try { await app.Services.GetRequiredService<Migrator>().Migrate(); }
catch (Exception e) when (e is Npgsql.NpgsqlException or System.Net.Sockets.SocketException)
{
    Console.Error.WriteLine($"steller: cannot reach PostgreSQL at Database:ConnectionString ({e.Message}).");
    return 3;
}

app.UseMiddleware<Correlation>();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseMiddleware<BodyLimit>(settings.Http.MaxRequestBodyBytes);
app.UseHttpMetrics();
app.UseStellerAdmin();

app.MapHealth();
foreach (var module in app.Services.GetServices<IEndpointModule>()) module.Map(app);
app.MapMetrics("/metrics");
app.MapOpenApi("/openapi/{documentName}.json");
app.MapScalarApiReference("/docs", o => o.WithTitle("Steller API").WithOpenApiRoutePattern("/openapi/{documentName}.json"));

await app.RunAsync();
return 0;

public partial class Program;
