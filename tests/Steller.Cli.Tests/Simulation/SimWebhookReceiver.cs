using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Steller.Cli.Tests.Simulation;

/// <summary>
/// One request the receiver got and what it answered. <see cref="Seq"/> is taken just before the answer is written, so a
/// message the sender sent only after seeing an earlier one's 2xx always has a higher one (the order of first 2xx answers
/// is the order the sender saw them delivered).
/// </summary>
public sealed record WebhookArrival(string Path, string WebhookId, string Type, string? OrderId, long? Revision, string Body,
    int Answer, long Seq, DateTimeOffset At, string? SignatureProblem)
{
    /// <summary>An answer the sender may have taken as delivered (a 2xx written after its timeout also counts: it was given).</summary>
    public bool Delivered => Answer is >= 200 and < 300;
}

/// <summary>
/// The simulation's webhook receiver (a small HTTP/1.1 server on a loopback socket, one for the world): each subscribed partner's endpoint is a
/// path of it (<see cref="Register"/>). It verifies every request's Standard Webhooks signature with that endpoint's secret
/// (computed here, independently of Steller's code, as WebhookFixture.SignedBy does) and records it; it misbehaves as the
/// endpoint's <see cref="SimWebhook"/> says (5xx, an answer after Steller's timeout, a connection closed without an answer,
/// slow but in time), each choice a hash of the scenario's seed and the message's content, at most
/// <see cref="MaxFailuresPerMessage"/> times per message, so with the compressed retry schedule every message gets through.
/// </summary>
public sealed class SimWebhookReceiver : IDisposable
{
    /// <summary>Deliberate failures per webhook-id; below the retry schedule's length (<see cref="SimulationWorld"/>), so none fails for good.</summary>
    public const int MaxFailuresPerMessage = 2;
    /// <summary>Steller's attempt timeout in the simulation (<c>Webhooks:TimeoutSeconds</c>); a "late" answer comes after it.</summary>
    public const double TimeoutSeconds = 2;

    private sealed record Endpoint(int Seed, string PartnerId, string Secret, SimWebhook Profile);

    /// <summary>One HTTP/1.1 request as read off the socket.</summary>
    private sealed record Request(string Path, IReadOnlyDictionary<string, string> Headers, string Body);

    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource stop = new();
    private readonly ConcurrentDictionary<string, Endpoint> endpoints = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> seen = new(StringComparer.Ordinal), failures = new(StringComparer.Ordinal);
    private readonly TimeProvider time;
    private readonly Func<TimeSpan> recentJump;
    private long seq;

    public ConcurrentQueue<WebhookArrival> Arrivals { get; } = new();
    /// <summary>Requests to a path no endpoint was registered for, or that could not be read.</summary>
    public ConcurrentQueue<string> Strays { get; } = new();
    public string BaseUrl { get; }

    /// <param name="time">The nodes' clock (the harness's view of it): webhook-timestamp is checked against it.</param>
    /// <param name="recentJump">How far that clock jumped in the last seconds (zero when it did not).</param>
    public SimWebhookReceiver(TimeProvider time, Func<TimeSpan> recentJump)
    {
        this.time = time;
        this.recentJump = recentJump;
        // A plain socket server, not HttpListener: its Response.Abort() on Linux still writes a default 200 before closing,
        // so it cannot close a connection without an answer.
        listener.Start();
        BaseUrl = $"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/";
        _ = Task.Run(Loop);
    }

    /// <summary>The URL a partner registers; its requests are verified with the secret given to <see cref="Register"/>.</summary>
    public string UrlFor(int seed, string partnerId) => $"{BaseUrl}hook/{seed}/{partnerId}/";

    public void Register(int seed, string partnerId, string secret, SimWebhook profile) =>
        endpoints[PathFor(seed, partnerId)] = new Endpoint(seed, partnerId, secret, profile);

    public static string PathFor(int seed, string partnerId) => $"/hook/{seed}/{partnerId}/";

    public IEnumerable<WebhookArrival> ArrivalsAt(int seed, string partnerId)
    {
        var path = PathFor(seed, partnerId);
        return Arrivals.Where(a => a.Path == path);
    }

    private async Task Loop()
    {
        while (!stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await listener.AcceptTcpClientAsync(stop.Token); }
            catch (Exception) { return; }
            _ = Task.Run(() => Serve(client));
        }
    }

    /// <summary>Requests on one kept-alive connection, one after another, until the sender closes it or an answer is dropped.</summary>
    private async Task Serve(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                var buffer = new List<byte>();
                while (await Read(stream, buffer) is { } request)
                {
                    var status = await Handle(request, client.Client);
                    if (status is null) return; // closed with no answer at all (reset or plain close, see Handle)
                    var reason = status switch { 200 => "OK", 204 => "No Content", 401 => "Unauthorized", 404 => "Not Found", 500 => "Internal Server Error",
                        502 => "Bad Gateway", 503 => "Service Unavailable", _ => "Status" };
                    await stream.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 {status} {reason}\r\nContent-Length: 0\r\n\r\n"), stop.Token);
                }
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
            {
                // The sender went away (its timeout) while this answered: what was recorded stands.
            }
        }
    }

    /// <summary>The next request on the connection (null once the sender closed it); <paramref name="buffer"/> keeps bytes read past it.</summary>
    private async Task<Request?> Read(NetworkStream stream, List<byte> buffer)
    {
        var chunk = new byte[8192];
        int headerEnd;
        while ((headerEnd = IndexOfBlankLine(buffer)) < 0)
        {
            var n = await stream.ReadAsync(chunk, stop.Token);
            if (n == 0) return null;
            buffer.AddRange(chunk.AsSpan(0, n));
        }
        var lines = Encoding.ASCII.GetString(buffer.GetRange(0, headerEnd).ToArray()).Split("\r\n");
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in lines.Skip(1))
            if (line.IndexOf(':') is var colon and > 0) headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        var length = headers.TryGetValue("content-length", out var l) ? int.Parse(l, System.Globalization.CultureInfo.InvariantCulture) : 0;
        while (buffer.Count < headerEnd + 4 + length)
        {
            var n = await stream.ReadAsync(chunk, stop.Token);
            if (n == 0) return null;
            buffer.AddRange(chunk.AsSpan(0, n));
        }
        var body = Encoding.UTF8.GetString(buffer.GetRange(headerEnd + 4, length).ToArray());
        buffer.RemoveRange(0, headerEnd + 4 + length);
        var target = lines[0].Split(' ') is { Length: >= 2 } parts ? parts[1] : "";
        return new Request(target.Split('?')[0], headers, body);
    }

    private static int IndexOfBlankLine(List<byte> buffer)
    {
        for (var i = 0; i + 3 < buffer.Count; i++)
            if (buffer[i] == '\r' && buffer[i + 1] == '\n' && buffer[i + 2] == '\r' && buffer[i + 3] == '\n') return i;
        return -1;
    }

    /// <summary>Records the request and says what to answer (null: close the connection without an answer).</summary>
    private async Task<int?> Handle(Request request, Socket socket)
    {
        var path = request.Path;
        var body = request.Body;
        var id = request.Headers.GetValueOrDefault("webhook-id") ?? "";
        if (!endpoints.TryGetValue(path, out var endpoint))
        {
            Strays.Enqueue($"{path} {id}");
            return 404;
        }
        var type = "?";
        string? orderId = null;
        long? revision = null;
        try
        {
            var json = JsonDocument.Parse(body).RootElement;
            type = json.GetProperty("type").GetString() ?? "?";
            var data = json.GetProperty("data");
            if (data.TryGetProperty("orderId", out var o)) orderId = o.GetString();
            if (data.TryGetProperty("revision", out var r) && r.ValueKind == JsonValueKind.Number) revision = r.GetInt64();
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            Strays.Enqueue($"{path} {id}: unreadable body ({e.Message})");
        }
        var problem = SignatureProblem(endpoint.Secret, id, request.Headers.GetValueOrDefault("webhook-timestamp"),
            request.Headers.GetValueOrDefault("webhook-signature"), body);
        if (problem is not null)
        {
            Record(path, id, type, orderId, revision, body, 401, problem);
            return 401;
        }

        // The n-th arrival of this message: same content from one seed, same choices, whatever its webhook-id.
        var n = seen.AddOrUpdate(id, 1, (_, k) => k + 1);
        var roll = Roll($"{endpoint.Seed}/{endpoint.PartnerId}/{orderId}/{type}/{n}");
        if (roll % 100 < endpoint.Profile.FailPercent && failures.GetValueOrDefault(id) < MaxFailuresPerMessage)
        {
            failures.AddOrUpdate(id, 1, (_, k) => k + 1);
            switch (roll / 100 % 3)
            {
                case 0: // a server error
                    var status = new[] { 500, 502, 503 }[roll / 300 % 3];
                    Record(path, id, type, orderId, revision, body, status, null);
                    return status;
                case 1: // 2xx after Steller gave up: a failed attempt for the sender, a processed message for the receiver
                    await Task.Delay(TimeSpan.FromSeconds(TimeoutSeconds + 0.6), stop.Token);
                    Record(path, id, type, orderId, revision, body, 200, null);
                    return 200;
                default: // the connection closed without an answer (Steller sends it once more at once, within the attempt), reset or not
                    Record(path, id, type, orderId, revision, body, 0, null);
                    if (roll / 300 % 2 == 0) socket.LingerState = new LingerOption(true, 0);
                    return null;
            }
        }
        if (roll / 1000 % 100 < endpoint.Profile.SlowPercent) await Task.Delay(TimeSpan.FromMilliseconds(200 + roll / 100_000 % 600), stop.Token);
        Record(path, id, type, orderId, revision, body, 204, null);
        return 204;
    }

    private void Record(string path, string id, string type, string? orderId, long? revision, string body, int answer, string? problem) =>
        Arrivals.Enqueue(new WebhookArrival(path, id, type, orderId, revision, body, answer, Interlocked.Increment(ref seq), DateTimeOffset.UtcNow, problem));

    /// <summary>
    /// Standard Webhooks v1 verification: any <c>v1,</c> entry equal to the HMAC-SHA256 of <c>{id}.{timestamp}.{body}</c>
    /// keyed with the secret, and a timestamp within 5 minutes of the nodes' clock (or of where it stood before its last jump:
    /// an attempt may be signed just before a jump and checked just after). Null when it verifies.
    /// </summary>
    private string? SignatureProblem(string secret, string id, string? timestamp, string? signatures, string body)
    {
        if (string.IsNullOrEmpty(id) || timestamp is null || signatures is null) return "a Standard Webhooks header is missing";
        var key = Convert.FromBase64String(secret["whsec_".Length..]);
        var expected = "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{id}.{timestamp}.{body}")));
        if (!signatures.Split(' ').Any(s => CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(s), Encoding.ASCII.GetBytes(expected))))
            return "no signature matches the endpoint's secret";
        if (!long.TryParse(timestamp, out var ts)) return $"webhook-timestamp '{timestamp}' is not a number";
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        var lastJump = (long)recentJump().TotalSeconds;
        return Math.Abs(now - ts) <= 300 || Math.Abs(now - lastJump - ts) <= 300 ? null
            : $"webhook-timestamp {ts} is {now - ts} s away from the nodes' clock";
    }

    /// <summary>A deterministic number from <paramref name="key"/> (string.GetHashCode differs from process to process).</summary>
    private static int Roll(string key) => (int)(BitConverter.ToUInt32(SHA256.HashData(Encoding.UTF8.GetBytes(key)), 0) & int.MaxValue);

    public void Dispose()
    {
        stop.Cancel();
        listener.Stop();
        stop.Dispose();
    }
}
