using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Steller.Api.Tests.Webhooks;

/// <summary>One request a receiver got: the Standard Webhooks headers, the raw body, the path and when (real time).</summary>
public sealed record ReceivedWebhook(string Path, string Id, string Timestamp, string Signature, string Body, DateTimeOffset At)
{
    public IReadOnlyDictionary<string, string> Headers => new Dictionary<string, string>
    {
        ["webhook-id"] = Id, ["webhook-timestamp"] = Timestamp, ["webhook-signature"] = Signature,
    };
}

/// <summary>
/// A real HTTP receiver on loopback (Kestrel, random port): records every request and answers what <see cref="Answer"/> says
/// (default 204), optionally after a delay.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication app;
    public ConcurrentQueue<ReceivedWebhook> Received { get; } = new();
    /// <summary>Given the request and how many requests came before it on this receiver: status, Location, delay.</summary>
    public Func<ReceivedWebhook, int, (int Status, string? Location, TimeSpan Delay)> Answer { get; set; } = (_, _) => (204, null, TimeSpan.Zero);
    public string BaseUrl { get; private set; } = "";
    public string Url => BaseUrl + "/hook";

    private WebhookReceiver(WebApplication app) => this.app = app;

    public static async Task<WebhookReceiver> Start()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        var count = 0;
        app.Map("/{**path}", async (HttpContext http) =>
        {
            using var reader = new StreamReader(http.Request.Body);
            var received = new ReceivedWebhook(http.Request.Path, http.Request.Headers["webhook-id"].ToString(),
                http.Request.Headers["webhook-timestamp"].ToString(), http.Request.Headers["webhook-signature"].ToString(),
                await reader.ReadToEndAsync(), DateTimeOffset.UtcNow);
            var (status, location, delay) = receiver.Answer(received, Interlocked.Increment(ref count) - 1);
            receiver.Received.Enqueue(received);
            if (delay > TimeSpan.Zero) await Task.Delay(delay);
            http.Response.StatusCode = status;
            if (location is not null) http.Response.Headers.Location = location;
            await http.Response.WriteAsync($"answer {status}");
        });
        await app.StartAsync();
        receiver.BaseUrl = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()
            .Replace("[::]", "127.0.0.1").Replace("localhost", "127.0.0.1");
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
