using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Steller.VendorSimulator;

/// <summary>Builds the simulator's web app (Program.cs runs it; tests host it on Kestrel at 127.0.0.1:0).</summary>
public static class SimulatorApp
{
    public const string DefaultUrl = "http://127.0.0.1:5090";
    public static readonly JsonSerializerOptions Json = new(JsonSerializerOptions.Web);
    public static readonly JsonSerializerOptions PascalJson = new(JsonSerializerOptions.Web) { PropertyNamingPolicy = null };

    public static WebApplication Create(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        if (string.IsNullOrEmpty(builder.Configuration["urls"])) builder.WebHost.UseUrls(DefaultUrl);
        var options = builder.Configuration.GetSection("Simulator").Get<SimulatorOptions>() ?? new SimulatorOptions();
        options.Validate();
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(sp => new FakeCodes(options.RandomSeed, options.GiftCard.PinLength));
        builder.Services.AddSingleton<ScriptBook>();
        builder.Services.AddSingleton<Recorder>();
        builder.Services.AddSingleton<RateBuckets>();
        builder.Services.AddSingleton<GiftCardVendor>();
        builder.Services.AddSingleton<TopUpVendor>();
        configure?.Invoke(builder);

        var app = builder.Build();
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Steller.VendorSimulator");
        app.Lifetime.ApplicationStarted.Register(() => log.LogInformation(
            "vendor simulator listening on {Urls} (sandbox: {Sandbox}); gift cards under /giftcard, top-ups under /topup, control "
                + "under /control",
            string.Join(", ", app.Urls), options.Sandbox));

        app.Use(VendorPipeline);
        app.Services.GetRequiredService<GiftCardVendor>().Map(app);
        app.Services.GetRequiredService<TopUpVendor>().Map(app);
        ControlEndpoints.Map(app);
        return app;
    }

    /// <summary>Every vendor call: classify, authenticate, rate-limit, apply transport scripts, run, record.</summary>
    private static async Task VendorPipeline(HttpContext http, RequestDelegate next)
    {
        var path = http.Request.Path.Value ?? "";
        var vendor = path.StartsWith("/giftcard/", StringComparison.Ordinal) ? GiftCardVendor.Name
            : path.StartsWith("/topup/", StringComparison.Ordinal) ? TopUpVendor.Name : null;
        if (vendor is null) { await next(http); return; }

        var sp = http.RequestServices;
        var arrived = sp.GetRequiredService<RateBuckets>().Now();
        var options = sp.GetRequiredService<SimulatorOptions>();
        var recorder = sp.GetRequiredService<Recorder>();
        var log = sp.GetRequiredService<ILoggerFactory>().CreateLogger("Steller.VendorSimulator.Requests");
        var seq = recorder.Next();
        var at = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        var operation = Operation(vendor, http.Request.Method, path);
        var (requestId, productId) = await Ids(http, vendor, operation, path);
        var rateLimited = false;
        string? scriptNote = null;
        try
        {
            var client = Authenticate(http, vendor, options);
            if (client is null)
            {
                await Write(http, 401, new { error = "Unauthorized", message = vendor == GiftCardVendor.Name
                    ? "Basic authentication required" : "api_key header required" });
                return;
            }
            var limit = vendor == GiftCardVendor.Name ? options.GiftCard.RateLimit : options.TopUp.RateLimit;
            if (!sp.GetRequiredService<RateBuckets>().TryTake($"{vendor}:{client}", limit, arrived, out var retryAfter))
            {
                rateLimited = true;
                http.Response.Headers.RetryAfter = retryAfter.ToString();
                await Write(http, 429, new { error = "TooManyRequests", message = $"rate limit {limit.PerSecond}/s exceeded" });
                return;
            }
            var script = sp.GetRequiredService<ScriptBook>().Take(vendor, operation, productId, requestId, Script.TransportActions);
            if (script is not null)
            {
                scriptNote = script.Action == "status" ? $"status {script.Status}" : $"{script.Action} {script.DelayMs} ms";
                switch (script.Action)
                {
                    case "latency":
                        await Task.Delay(script.DelayMs, http.RequestAborted);
                        break;
                    case "hang":
                        await Task.Delay(script.DelayMs > 0 ? script.DelayMs : 120_000, http.RequestAborted);
                        await Write(http, 504, new { error = "GatewayTimeout", message = "scripted hang" });
                        return;
                    case "hang-after":
                        // The vendor does the work (the order exists) but its answer never arrives.
                        var body = http.Response.Body;
                        await using (var lost = new MemoryStream())
                        {
                            http.Response.Body = lost;
                            try { await next(http); }
                            finally { http.Response.Body = body; }
                        }
                        scriptNote += $" after status {http.Response.StatusCode}";
                        await Task.Delay(script.DelayMs > 0 ? script.DelayMs : 120_000, http.RequestAborted);
                        http.Response.Clear();
                        await Write(http, 504, new { error = "GatewayTimeout", message = "scripted hang after processing" });
                        return;
                    default:
                        if (script.Status == 429) http.Response.Headers.RetryAfter = (script.RetryAfterSeconds ?? 1).ToString();
                        await Write(http, script.Status,
                            new { error = "Scripted", message = script.Reason ?? $"scripted {script.Status}" });
                        return;
                }
            }
            await next(http);
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            http.Response.StatusCode = 499; // the client gave up (timeout)
        }
        finally
        {
            var status = http.RequestAborted.IsCancellationRequested ? 499 : http.Response.StatusCode;
            recorder.Add(new RecordedRequest(seq, vendor, operation, http.Request.Method, path, requestId, productId, status, at,
                clock.Elapsed.TotalMilliseconds, rateLimited, scriptNote));
            // Ids and statuses only: bodies (card codes, PINs) are never logged.
            log.LogInformation("{Vendor} {Operation} {Method} {Path} request {RequestId} -> {Status} in {Ms:F0} ms{Script}",
                vendor, operation, http.Request.Method, path, requestId, status, clock.Elapsed.TotalMilliseconds, scriptNote is null ? ""
                    : $" (script: {scriptNote})");
        }
    }

    public static string Operation(string vendor, string method, string path)
    {
        if (vendor == GiftCardVendor.Name)
            return path switch
            {
                _ when path.EndsWith("/catalog", StringComparison.OrdinalIgnoreCase) => "catalog",
                _ when path.EndsWith("/accounts", StringComparison.OrdinalIgnoreCase) => "accounts",
                _ when path.EndsWith("/orders/checkout", StringComparison.OrdinalIgnoreCase) => "checkout",
                _ when path.Contains("/orders/", StringComparison.OrdinalIgnoreCase) && method == "GET" => "order",
                _ => "other",
            };
        var last = path.TrimEnd('/').Split('/')[^1].ToLowerInvariant();
        return last switch
        {
            "getproviders" => "providers",
            "getproducts" => "products",
            "sendtransfer" => "transfer",
            "listtransferrecords" => "transfers",
            "getbalance" => "balance",
            _ => "other",
        };
    }

    /// <summary>The ids a test can match scripts and recordings on: RequestId/DistributorRef and product id/SkuCode.</summary>
    private static async Task<(string? RequestId, string? ProductId)> Ids(HttpContext http, string vendor, string operation, string path)
    {
        if (operation == "order") return (path.TrimEnd('/').Split('/')[^1], null);
        if (!HttpMethods.IsPost(http.Request.Method)) return (null, null);
        http.Request.EnableBuffering();
        try
        {
            using var doc = await JsonDocument.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted);
            var root = doc.RootElement;
            if (vendor == GiftCardVendor.Name)
            {
                var rid = Prop(root, "requestId")?.ToString();
                var pid = Prop(root, "products") is { ValueKind: JsonValueKind.Array } arr && arr.GetArrayLength() > 0
                    ? Prop(arr[0], "productId")?.ToString() : null;
                return (rid, pid);
            }
            return (Prop(root, "DistributorRef")?.ToString(), Prop(root, "SkuCode")?.ToString());
        }
        catch (JsonException) { return (null, null); }
        finally { http.Request.Body.Position = 0; }
    }

    private static JsonElement? Prop(JsonElement e, string name)
    {
        if (e.ValueKind != JsonValueKind.Object) return null;
        foreach (var p in e.EnumerateObject())
            if (string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase)) return p.Value;
        return null;
    }

    /// <summary>The client's identity for rate limiting, or null when the credentials are wrong.</summary>
    private static string? Authenticate(HttpContext http, string vendor, SimulatorOptions options)
    {
        if (vendor == TopUpVendor.Name)
            return http.Request.Headers["api_key"].ToString() is { Length: > 0 } key && key == options.TopUp.ApiKey ? "key" : null;
        var header = http.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase)) return null;
        string decoded;
        try { decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim())); }
        catch (FormatException) { return null; }
        var colon = decoded.IndexOf(':');
        if (colon < 0) return null;
        var (id, secret) = (decoded[..colon], decoded[(colon + 1)..]);
        return id == options.GiftCard.ClientId && secret == options.GiftCard.ClientSecret ? id : null;
    }

    private static Task Write(HttpContext http, int status, object body)
    {
        http.Response.StatusCode = status;
        return http.Response.WriteAsJsonAsync(body, Json);
    }

    public static bool IsLoopback(HttpContext http) =>
        http.Connection.RemoteIpAddress is not { } ip || IPAddress.IsLoopback(ip);
}
