using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
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
    private WebApplication app;

    private readonly bool tls;

    private FakeEventStoreServer(WebApplication app, int port, bool tls)
    {
        this.app = app;
        this.tls = tls;
        Port = port;
        Log = app.Services.GetRequiredService<FakeLog>();
        Node = app.Services.GetRequiredService<FakeNode>();
    }

    public int Port { get; }
    public FakeLog Log { get; }
    /// <summary>This server as a member of a <see cref="FakeCluster"/> (or a single node), with its call counters.</summary>
    public FakeNode Node { get; }
    public bool Running { get; private set; } = true;
    public FakeSubscriptions Subscriptions => app.Services.GetRequiredService<FakeSubscriptions>();
    public string ConnectionString => tls ? $"esdb://127.0.0.1:{Port}?tls=true&tlsVerifyCert=false" : $"esdb://127.0.0.1:{Port}?tls=false";

    /// <param name="tls">Serve HTTP/2 over TLS with a fresh self-signed certificate instead of h2c.</param>
    public static async Task<FakeEventStoreServer> Start(bool tls = false, FakeLog? log = null, FakeNode? node = null)
    {
        var app = await Host(0, log ?? new FakeLog(), tls, node ?? new FakeNode(null, 0));
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new FakeEventStoreServer(app, new Uri(address).Port, tls);
    }

    /// <summary>Stops the server (every call and connection ends), waits, and starts it again on the same port with the same data.</summary>
    public async Task Restart(TimeSpan downtime)
    {
        await Stop();
        await Task.Delay(downtime);
        app = await Host(Port, Log, tls, Node);
        Running = true;
    }

    private static async Task<WebApplication> Host(int port, FakeLog log, bool tls, FakeNode node)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, port, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                if (tls) listen.UseHttps(SelfSignedCertificate());
            });
            k.Limits.Http2.MaxStreamsPerConnection = 100; // as EventStoreDB
        });
        builder.Services.AddGrpc(o =>
        {
            o.MaxReceiveMessageSize = null; // the append size limit is the service's own check, as on the real server
            o.EnableDetailedErrors = false;
        });
        builder.Services.AddSingleton(log);
        builder.Services.AddSingleton(node);
        builder.Services.AddSingleton<FakeSubscriptions>();
        var app = builder.Build();
        app.MapGrpcService<FakeStreamsService>();
        app.MapGrpcService<FakeGossipService>();
        app.MapGrpcService<FakeServerFeaturesService>();
        await app.StartAsync();
        return app;
    }

    private static X509Certificate2 SelfSignedCertificate()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pfx), null);
    }

    public async ValueTask DisposeAsync()
    {
        if (Running) await Stop();
    }

    /// <summary>Stops the server: every call and connection ends, new connections are refused.</summary>
    public async Task Stop()
    {
        Running = false;
        Subscriptions.KillAll();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await app.StopAsync(stop.Token);
        await app.DisposeAsync();
    }
}
