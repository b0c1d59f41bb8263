using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Steller.EventStoreDb.Tests.Fake;

/// <summary>
/// Hosts <see cref="FakeStreamsService"/> on Kestrel, on a loopback port, HTTP/2 without TLS (h2c), so the adapter
/// talks to it over a real socket exactly as to <c>esdb://127.0.0.1:2113?tls=false</c>. The real server is the authority.
/// </summary>
internal sealed class FakeEventStoreServer : IAsyncDisposable
{
    private readonly WebApplication app;

    private FakeEventStoreServer(WebApplication app, int port)
    {
        this.app = app;
        Port = port;
        Log = app.Services.GetRequiredService<FakeLog>();
        Subscriptions = app.Services.GetRequiredService<FakeSubscriptions>();
    }

    public int Port { get; }
    public FakeLog Log { get; }
    public FakeSubscriptions Subscriptions { get; }
    public string ConnectionString => $"esdb://127.0.0.1:{Port}?tls=false";

    public static async Task<FakeEventStoreServer> Start()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2);
            k.Limits.Http2.MaxStreamsPerConnection = 100; // as EventStoreDB
        });
        builder.Services.AddGrpc(o =>
        {
            o.MaxReceiveMessageSize = null; // the append size limit is the service's own check, as on the real server
            o.EnableDetailedErrors = false;
        });
        builder.Services.AddSingleton<FakeLog>();
        builder.Services.AddSingleton<FakeSubscriptions>();
        var app = builder.Build();
        app.MapGrpcService<FakeStreamsService>();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new FakeEventStoreServer(app, new Uri(address).Port);
    }

    public async ValueTask DisposeAsync()
    {
        Subscriptions.KillAll();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await app.StopAsync(stop.Token);
        await app.DisposeAsync();
    }
}
