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
/// Delivers pending messages. A dispatcher claims due messages in batches (one statement takes as many as there are free slots,
/// see <see cref="WebhookStore.ClaimDue"/>), whenever it is woken (<see cref="WebhookSignal"/>: new, resent or replayed messages,
/// a slot freed on a full endpoint, an outcome that may release an order's next message) or at the latest every
/// <see cref="WebhookOptions.PollInterval"/> (retries that came due), or <see cref="WebhookOptions.IdlePollInterval"/> while the
/// queue was last seen empty and nothing is in flight here (nothing can come due without a new message, and a new message
/// wakes the node that wrote it). Each claimed message is sent on its own task with no
/// transaction open; at most <see cref="WebhookOptions.MaxConcurrency"/> sends run at once and at most
/// <see cref="WebhookOptions.MaxConcurrencyPerEndpoint"/> to one endpoint, so a slow endpoint only ever occupies its own slots.
/// Outcomes go to a recorder that writes everything that has arrived in one statement (attempts, message states and endpoint
/// health; group commit: no waiting when idle, bigger batches under load). Only 2xx succeeds; a failure is tried again after
/// the next delay of the schedule, and after the last one the message is failed. A message stays claimed (and is never
/// claimed again by this node) until its outcome is recorded; a node that dies before that leaves it due again once the claim
/// lapses, and it is sent again with the same webhook-id (at least once).
/// </summary>
public sealed class WebhookDelivery(WebhookStore store, WebhookOptions options, IKeyRing keyRing, IClock clock, WebhookSignal signal,
    ILogger<WebhookDelivery> log) : BackgroundService
{
    private readonly HttpClient http = new(WebhookConnections.Handler(options.AllowPrivateTargets)) { Timeout = Timeout.InfiniteTimeSpan };
    /// <summary>Claimed by this node and not yet recorded (being sent, or waiting for the recorder).</summary>
    private readonly ConcurrentDictionary<string, byte> inFlight = new(StringComparer.Ordinal);
    /// <summary>Sends running per endpoint (entries at 0 are removed).</summary>
    private readonly ConcurrentDictionary<string, int> perEndpoint = new(StringComparer.Ordinal);
    private readonly System.Threading.Channels.Channel<WebhookOutcome> outcomes =
        System.Threading.Channels.Channel.CreateUnbounded<WebhookOutcome>(new() { SingleReader = true });
    private int running;
    private long queueMeasuredAt;
    /// <summary>
    /// The pending messages (every node's) at the last measurement; -1 before the first and after a claim, so a retry the
    /// claim may leave behind is always measured before the dispatcher waits the idle poll.
    /// </summary>
    private long lastPending = -1;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var recorder = Task.Run(() => RecordOutcomes(), CancellationToken.None);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Dispatch(stoppingToken);
                await MeasureQueue(stoppingToken); // after the sends started: the gauges' query never delays them
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { break; }
            catch (Exception e)
            {
                log.LogWarning(e, "Webhook dispatch failed; trying again at the next poll");
            }
            var idle = Interlocked.Read(ref lastPending) == 0 && Volatile.Read(ref running) == 0 && inFlight.IsEmpty;
            try { await signal.Wait(idle ? Max(options.PollInterval, options.IdlePollInterval) : options.PollInterval, stoppingToken); }
            catch (OperationCanceledException) { break; }
        }
        // Sends in flight finish (they are cancelled), their outcomes are recorded, then the recorder stops.
        while (Volatile.Read(ref running) > 0) await Task.Delay(20, CancellationToken.None);
        outcomes.Writer.TryComplete();
        await recorder;
    }

    /// <summary>Claims what fits the free slots (in total and per endpoint) in one statement and starts sending it.</summary>
    private async Task Dispatch(CancellationToken ct)
    {
        var free = options.MaxConcurrency - Volatile.Read(ref running);
        if (free <= 0) return; // a send that ends on a full worker wakes the dispatcher
        var now = clock.UtcNow;
        var busy = perEndpoint.Where(p => p.Value > 0).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        var claimed = await store.ClaimDue(now, now + options.Timeout + TimeSpan.FromSeconds(30), free, options.MaxConcurrencyPerEndpoint, busy,
            inFlight.Keys.ToList(), ct);
        if (claimed.Count > 0) Interlocked.Exchange(ref lastPending, -1);
        foreach (var message in claimed)
        {
            inFlight[message.Id] = 0;
            perEndpoint.AddOrUpdate(message.EndpointId, 1, (_, n) => n + 1);
            Interlocked.Increment(ref running);
            _ = Task.Run(() => DeliverOnce(message, ct), CancellationToken.None);
        }
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    /// <summary>The queue gauges, at most once a second (real time).</summary>
    private async Task MeasureQueue(CancellationToken ct)
    {
        var tick = Environment.TickCount64;
        if (tick - Interlocked.Read(ref queueMeasuredAt) < 1000) return;
        Interlocked.Exchange(ref queueMeasuredAt, tick);
        var (pending, due, lag) = await store.Queue(clock.UtcNow, ct);
        Interlocked.Exchange(ref lastPending, pending);
        WebhookMetrics.Pending.Set(pending);
        WebhookMetrics.Due.Set(due);
        WebhookMetrics.QueueLagSeconds.Set(Math.Max(0, lag));
    }

    private async Task DeliverOnce(DueWebhookMessage message, CancellationToken ct)
    {
        var queued = false;
        try
        {
            var attempt = await Send(message, ct);
            var attempts = message.Attempts + 1;
            var ok = attempt.Status is >= 200 and < 300;
            var (status, next) = ok ? ("delivered", (DateTimeOffset?)null)
                : attempts >= options.RetrySchedule.Count ? ("failed", null)
                : ("pending", clock.UtcNow + options.RetrySchedule[attempts]);
            if (ok) WebhookMetrics.LagSeconds.Observe(Math.Max(0, (clock.UtcNow.UtcDateTime - DateTime.SpecifyKind(message.CreatedAt, DateTimeKind.Utc)).TotalSeconds));
            queued = outcomes.Writer.TryWrite(new WebhookOutcome(message.EndpointId, attempt, ok, status, attempts, next));
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { } // stopping: the claim lapses, it is sent again
        catch (Exception e)
        {
            log.LogWarning(e, "Webhook {MessageId}: the attempt could not be completed; the claim lapses and it is tried again", message.Id);
        }
        finally
        {
            if (!queued) inFlight.TryRemove(message.Id, out _);
            var endpointWasFull = perEndpoint.AddOrUpdate(message.EndpointId, 0, (_, n) => n - 1) + 1 >= options.MaxConcurrencyPerEndpoint;
            perEndpoint.TryRemove(new KeyValuePair<string, int>(message.EndpointId, 0));
            var workerWasFull = Interlocked.Decrement(ref running) + 1 >= options.MaxConcurrency;
            if (endpointWasFull || workerWasFull) signal.Wake(); // a slot is free where one was wanted
        }
    }

    /// <summary>
    /// Writes outcomes as they arrive: everything waiting is written in one statement (a write that fails is tried again; after
    /// a few failures the batch is dropped: its claims lapse and the messages are sent again, at least once).
    /// </summary>
    private async Task RecordOutcomes()
    {
        var reader = outcomes.Reader;
        var batch = new List<WebhookOutcome>();
        while (await reader.WaitToReadAsync(CancellationToken.None))
        {
            batch.Clear();
            while (batch.Count < 1000 && reader.TryRead(out var outcome)) batch.Add(outcome);
            var releasedNext = false;
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    releasedNext = await store.RecordMany(batch, CancellationToken.None);
                    Observe(batch);
                    break;
                }
                catch (Exception e) when (attempt < 5)
                {
                    log.LogWarning(e, "Recording {Count} webhook attempts failed (try {Attempt}); trying again", batch.Count, attempt);
                    await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt), CancellationToken.None);
                }
                catch (Exception e)
                {
                    log.LogError(e, "Recording {Count} webhook attempts failed; their claims lapse and they are sent again", batch.Count);
                    break;
                }
            }
            foreach (var outcome in batch) inFlight.TryRemove(outcome.Attempt.MessageId, out _);
            if (releasedNext) signal.Wake(); // an order's next message may be due now
        }
    }

    private void Observe(IReadOnlyList<WebhookOutcome> batch)
    {
        foreach (var (endpointId, attempt, ok, status, attempts, _) in batch)
        {
            var outcome = ok ? "delivered" : status == "failed" ? "failed" : "retrying";
            WebhookMetrics.Deliveries.WithLabels(outcome).Inc();
            WebhookMetrics.AttemptSeconds.WithLabels(ok ? "delivered" : "failed").Observe(attempt.LatencyMs / 1000);
            if (!ok)
                log.LogInformation("Webhook {MessageId} to endpoint {EndpointId}: attempt {Attempt} failed ({Outcome}); now {Status}",
                    attempt.MessageId, endpointId, attempts, attempt.Status?.ToString() ?? attempt.Error, status);
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
            var signature = WebhookSignature.Header(secrets, message.Id, timestamp, message.Body);
            HttpRequestMessage Request()
            {
                var request = new HttpRequestMessage(HttpMethod.Post, message.Url)
                {
                    Content = new StringContent(message.Body, Encoding.UTF8, "application/json"),
                };
                request.Headers.TryAddWithoutValidation("webhook-id", message.Id);
                request.Headers.TryAddWithoutValidation("webhook-timestamp", timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
                request.Headers.TryAddWithoutValidation("webhook-signature", signature);
                request.Headers.UserAgent.ParseAdd("Steller-Webhooks/1");
                return request;
            }
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(options.Timeout);
            HttpResponseMessage response;
            using (var first = Request())
            {
                try { response = await http.SendAsync(first, HttpCompletionOption.ResponseHeadersRead, timeout.Token); }
                catch (HttpRequestException e) when (e.HttpRequestError == HttpRequestError.ResponseEnded)
                {
                    // The receiver closed the connection without an answer: typically a kept-alive connection it had just
                    // dropped as idle while this request went out on it. Once, at once, on a new connection, same webhook-id
                    // (receivers dedupe by it), within this attempt and its timeout.
                    using var again = Request();
                    response = await http.SendAsync(again, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
                }
            }
            using var _ = response;
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
