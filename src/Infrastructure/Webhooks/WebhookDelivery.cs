using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Steller.Application.Crypto;
using Steller.Application.Time;
using Steller.Application.Webhooks;

namespace Steller.Infrastructure.Webhooks;

/// <summary>Wakes the delivery worker at once when messages became due (new, resent, replayed), instead of at its next poll.</summary>
public sealed class WebhookSignal
{
    private readonly SemaphoreSlim signal = new(0, 1);

    public void Wake()
    {
        try { signal.Release(); }
        catch (SemaphoreFullException) { }
    }

    public Task Wait(TimeSpan timeout, CancellationToken ct) => signal.WaitAsync(timeout, ct);
}

/// <summary>Webhook delivery in /metrics: attempts by outcome, attempt latency, delivery lag, and the queue.</summary>
public static class WebhookMetrics
{
    public static readonly Prometheus.Counter Deliveries = Prometheus.Metrics.CreateCounter("steller_webhook_deliveries_total",
        "Delivery attempts by outcome: delivered (2xx), retrying (failed, another attempt is scheduled), failed (the last attempt failed).",
        "outcome");
    public static readonly Prometheus.Histogram AttemptSeconds = Prometheus.Metrics.CreateHistogram("steller_webhook_attempt_seconds",
        "Duration of one delivery attempt (request sent to answer read, or timeout).", new Prometheus.HistogramConfiguration
        {
            LabelNames = ["outcome"], Buckets = Prometheus.Histogram.ExponentialBuckets(0.005, 2, 13),
        });
    public static readonly Prometheus.Histogram LagSeconds = Prometheus.Metrics.CreateHistogram("steller_webhook_delivery_lag_seconds",
        "From the event's time to the receiver's 2xx, per delivered message (retries included).", new Prometheus.HistogramConfiguration
        {
            Buckets = Prometheus.Histogram.ExponentialBuckets(0.01, 2, 16),
        });
    public static readonly Prometheus.Gauge Pending = Prometheus.Metrics.CreateGauge("steller_webhook_pending_messages",
        "Messages waiting for delivery (due now or scheduled for a retry).");
    public static readonly Prometheus.Gauge Due = Prometheus.Metrics.CreateGauge("steller_webhook_due_messages",
        "Messages due now on enabled endpoints and not yet taken (the queue depth).");
    public static readonly Prometheus.Gauge QueueLagSeconds = Prometheus.Metrics.CreateGauge("steller_webhook_queue_lag_seconds",
        "How long the oldest due message has been waiting past its due time; 0 when none waits.");
}

/// <summary>The connection a webhook delivery may open: every DNS answer is checked (no private, loopback or link-local address).</summary>
public sealed class WebhookTargetRefusedException(string message) : Exception(message);

public static class WebhookConnections
{
    /// <summary>
    /// The addresses to connect to for <paramref name="host"/>; refuses (throws <see cref="WebhookTargetRefusedException"/>) when
    /// any of them is internal and <paramref name="allowPrivate"/> is false, so a name cannot smuggle a request to one.
    /// </summary>
    public static async Task<IPAddress[]> Resolve(string host, bool allowPrivate, CancellationToken ct)
    {
        var addresses = IPAddress.TryParse(host.Trim('[', ']'), out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, ct);
        if (addresses.Length == 0) throw new WebhookTargetRefusedException($"{host} has no address");
        if (!allowPrivate && addresses.FirstOrDefault(WebhookTargets.IsInternal) is { } bad)
            throw new WebhookTargetRefusedException($"target refused: {host} resolves to an internal address ({bad})");
        return addresses;
    }

    /// <summary>The handler deliveries use: no redirects, no cookies, no proxy, and <see cref="Resolve"/> on every connection.</summary>
    public static SocketsHttpHandler Handler(bool allowPrivate) => new()
    {
        AllowAutoRedirect = false,
        UseCookies = false,
        UseProxy = false,
        PooledConnectionLifetime = TimeSpan.FromMinutes(2),
        ConnectTimeout = TimeSpan.FromSeconds(10),
        ConnectCallback = async (context, ct) =>
        {
            var addresses = await Resolve(context.DnsEndPoint.Host, allowPrivate, ct);
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(addresses, context.DnsEndPoint.Port, ct);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };
}

/// <summary>
/// Delivers pending messages: polls for due ones (or wakes on <see cref="WebhookSignal"/>), claims each with a short update
/// (its due time moves past the timeout, so another node does not take it meanwhile), sends it with no transaction open, and
/// records the attempt. Only 2xx succeeds; a failure is tried again after the next delay of the schedule, and after the last
/// one the message is failed. At most <see cref="WebhookOptions.MaxConcurrency"/> deliveries run at once, and at most
/// <see cref="WebhookOptions.MaxConcurrencyPerEndpoint"/> to one endpoint, so a slow endpoint only ever occupies its own slots.
/// </summary>
public sealed class WebhookDelivery(WebhookStore store, WebhookOptions options, IKeyRing keyRing, IClock clock, WebhookSignal signal,
    ILogger<WebhookDelivery> log) : BackgroundService
{
    private readonly HttpClient http = new(WebhookConnections.Handler(options.AllowPrivateTargets)) { Timeout = Timeout.InfiniteTimeSpan };
    private readonly ConcurrentDictionary<string, byte> inFlight = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> perEndpoint = new(StringComparer.Ordinal);
    private int running;
    private long queueMeasuredAt;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await DispatchDue(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { break; }
            catch (Exception e)
            {
                log.LogWarning(e, "Webhook dispatch failed; trying again at the next poll");
            }
            try { await signal.Wait(options.PollInterval, stoppingToken); }
            catch (OperationCanceledException) { break; }
        }
        while (Volatile.Read(ref running) > 0) await Task.Delay(50, CancellationToken.None);
    }

    private async Task DispatchDue(CancellationToken ct)
    {
        await MeasureQueue(ct);
        if (Volatile.Read(ref running) >= options.MaxConcurrency) return;
        var now = clock.UtcNow;
        var free = options.MaxConcurrency - Volatile.Read(ref running);
        // Pick what fits the free slots (in total and per endpoint), then claim them all in one statement.
        var picked = new List<DueWebhookMessage>();
        var planned = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var message in await store.Due(now, options.MaxConcurrencyPerEndpoint, 1000, ct))
        {
            if (picked.Count >= free) break;
            if (inFlight.ContainsKey(message.Id)) continue;
            var busy = perEndpoint.GetValueOrDefault(message.EndpointId) + planned.GetValueOrDefault(message.EndpointId);
            if (busy >= options.MaxConcurrencyPerEndpoint) continue;
            planned[message.EndpointId] = planned.GetValueOrDefault(message.EndpointId) + 1;
            picked.Add(message);
        }
        if (picked.Count == 0) return;
        var claimed = await store.Claim(picked.Select(m => m.Id).ToList(), now, now + options.Timeout + TimeSpan.FromSeconds(30), ct);
        foreach (var message in picked)
        {
            if (!claimed.Contains(message.Id)) continue; // another node took it
            inFlight[message.Id] = 0;
            perEndpoint.AddOrUpdate(message.EndpointId, 1, (_, n) => n + 1);
            Interlocked.Increment(ref running);
            _ = Task.Run(() => DeliverOnce(message, ct), CancellationToken.None);
        }
    }

    /// <summary>The queue gauges, at most once a second (real time).</summary>
    private async Task MeasureQueue(CancellationToken ct)
    {
        var tick = Environment.TickCount64;
        if (tick - Interlocked.Read(ref queueMeasuredAt) < 1000) return;
        Interlocked.Exchange(ref queueMeasuredAt, tick);
        var (pending, due, lag) = await store.Queue(clock.UtcNow, ct);
        WebhookMetrics.Pending.Set(pending);
        WebhookMetrics.Due.Set(due);
        WebhookMetrics.QueueLagSeconds.Set(Math.Max(0, lag));
    }

    private async Task DeliverOnce(DueWebhookMessage message, CancellationToken ct)
    {
        try
        {
            var attempt = await Send(message, ct);
            var attempts = message.Attempts + 1;
            var ok = attempt.Status is >= 200 and < 300;
            var (status, next) = ok ? ("delivered", (DateTimeOffset?)null)
                : attempts >= options.RetrySchedule.Count ? ("failed", null)
                : ("pending", clock.UtcNow + options.RetrySchedule[attempts]);
            await store.Record(message.Id, message.EndpointId, attempt, ok, status, attempts, next, CancellationToken.None);
            var outcome = ok ? "delivered" : status == "failed" ? "failed" : "retrying";
            WebhookMetrics.Deliveries.WithLabels(outcome).Inc();
            WebhookMetrics.AttemptSeconds.WithLabels(ok ? "delivered" : "failed").Observe(attempt.LatencyMs / 1000);
            if (ok) WebhookMetrics.LagSeconds.Observe(Math.Max(0, (clock.UtcNow.UtcDateTime - DateTime.SpecifyKind(message.CreatedAt, DateTimeKind.Utc)).TotalSeconds));
            if (!ok)
                log.LogInformation("Webhook {MessageId} to endpoint {EndpointId}: attempt {Attempt} failed ({Outcome}); now {Status}",
                    message.Id, message.EndpointId, attempts, attempt.Status?.ToString() ?? attempt.Error, status);
        }
        catch (Exception e)
        {
            log.LogWarning(e, "Webhook {MessageId}: recording the attempt failed; the claim expires and it is tried again", message.Id);
        }
        finally
        {
            inFlight.TryRemove(message.Id, out _);
            perEndpoint.AddOrUpdate(message.EndpointId, 0, (_, n) => n - 1);
            Interlocked.Decrement(ref running);
            signal.Wake(); // a slot is free, and the order's next message may be due
        }
    }

    private async Task<WebhookAttemptRow> Send(DueWebhookMessage message, CancellationToken ct)
    {
        var at = clock.UtcNow;
        var watch = Stopwatch.StartNew();
        try
        {
            var secrets = new List<string> { Open(message.SecretKeyId, message.Secret, message.EndpointId) };
            if (message is { PreviousKeyId: { } pk, PreviousSecret: { } ps, PreviousUntil: { } until } && until > at.UtcDateTime)
                secrets.Add(Open(pk, ps, message.EndpointId));
            var timestamp = at.ToUnixTimeSeconds();
            using var request = new HttpRequestMessage(HttpMethod.Post, message.Url)
            {
                Content = new StringContent(message.Body, Encoding.UTF8, "application/json"),
            };
            request.Headers.TryAddWithoutValidation("webhook-id", message.Id);
            request.Headers.TryAddWithoutValidation("webhook-timestamp", timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
            request.Headers.TryAddWithoutValidation("webhook-signature", WebhookSignature.Header(secrets, message.Id, timestamp, message.Body));
            request.Headers.UserAgent.ParseAdd("Steller-Webhooks/1");
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(options.Timeout);
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var answer = await ReadPrefix(response, options.MaxStoredAnswerBytes, timeout.Token);
            return new(message.Id, at.UtcDateTime, (int)response.StatusCode,
                (int)response.StatusCode is >= 300 and < 400 ? "redirect not followed" : null, watch.Elapsed.TotalMilliseconds, answer);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            return new(message.Id, at.UtcDateTime, null, Describe(e), watch.Elapsed.TotalMilliseconds, null);
        }
    }

    private string Open(string keyId, byte[] sealedSecret, string endpointId) =>
        Encoding.UTF8.GetString(keyRing.Decrypt(keyId, sealedSecret, endpointId));

    private string Describe(Exception e)
    {
        for (var x = e; x is not null; x = x.InnerException)
            if (x is WebhookTargetRefusedException refused) return refused.Message;
        return e switch
        {
            OperationCanceledException or TimeoutException => $"timeout after {options.Timeout.TotalSeconds:0.###} s",
            HttpRequestException h => $"connection failed: {h.HttpRequestError}",
            _ => $"error: {e.GetType().Name}",
        };
    }

    /// <summary>The first <paramref name="max"/> bytes of the answer as text (the rest is not read).</summary>
    private static async Task<string?> ReadPrefix(HttpResponseMessage response, int max, CancellationToken ct)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(ct);
        var buffer = new byte[max];
        var read = 0;
        while (read < max)
        {
            var n = await stream.ReadAsync(buffer.AsMemory(read, max - read), ct);
            if (n == 0) break;
            read += n;
        }
        return read == 0 ? null : Encoding.UTF8.GetString(buffer, 0, read).Replace('\0', '\uFFFD'); // text columns hold no NUL
    }

    public override void Dispose()
    {
        http.Dispose();
        base.Dispose();
    }
}
