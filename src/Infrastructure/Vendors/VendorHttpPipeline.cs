using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Timeout;
using Steller.Application.Vendors;

namespace Steller.Infrastructure.Vendors;

/// <summary>
/// The handler chain of a vendor's HttpClient, outermost first:
/// <list type="number">
/// <item><b>retry</b> (Polly): up to MaxRetries more attempts on transient outcomes (5xx, 408, 429, timeouts, connection
/// errors), jittered exponential backoff from RetryBaseDelay; on 429 no backoff of its own (the gate below waits);</item>
/// <item><b>gate</b>: the vendor's shared <see cref="VendorRateGate"/> (token bucket + pause, in PostgreSQL for all nodes when
/// the process has a database); a 429 pauses the vendor for
/// its Retry-After (delta-seconds or HTTP date; DefaultRetryAfter when absent) for every caller;</item>
/// <item><b>attempt timeout</b> (Polly): each attempt gets AttemptTimeout, time queued at the gate not included;</item>
/// <item><b>observer</b>: one <see cref="VendorCallObservation"/> per attempt (never blocks).</item>
/// </list>
/// What still fails after the retries surfaces as <see cref="VendorUnavailableException"/> (see <see cref="VendorHttp.Send"/>).
/// </summary>
public static class VendorHttpPipeline
{
    public static readonly HttpRequestOptionsKey<string> Operation = new("steller.vendor.operation");

    /// <summary>
    /// Set on a request that must not be sent twice blindly (a gift-card checkout): the pipeline retries it only after a
    /// 429 (refused unread); after a timeout or a 5xx the caller asks the vendor what became of it first.
    /// </summary>
    public static readonly HttpRequestOptionsKey<bool> NotBlindlyRepeated = new("steller.vendor.not-blindly-repeated");

    public static IHttpClientBuilder AddVendorPipeline(this IHttpClientBuilder client, string vendor, VendorHttpSettings settings,
        SharedGate gate)
    {
        client.ConfigureHttpClient(c =>
        {
            c.BaseAddress = settings.BaseUrl;
            c.Timeout = Timeout.InfiniteTimeSpan; // the pipeline owns timeouts
        });
        client.AddResilienceHandler($"{vendor}-retry", (pipeline, context) =>
        {
            var log = context.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger($"Steller.Infrastructure.Vendors.{vendor}");
            pipeline.AddRetry(new HttpRetryStrategyOptions
            {
                MaxRetryAttempts = Math.Max(1, settings.MaxRetries),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = settings.RetryBaseDelay,
                ShouldRetryAfterHeader = false,
                ShouldHandle = args => ValueTask.FromResult(settings.MaxRetries > 0 && (NotBlindlyRepeatable(args.Context.GetRequestMessage())
                    ? args.Outcome.Result?.StatusCode == HttpStatusCode.TooManyRequests
                    : IsTransient(args.Outcome))),
                // A 429 already paused the gate for Retry-After; the next attempt waits there, with every other caller.
                DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(
                    args.Outcome.Result?.StatusCode == HttpStatusCode.TooManyRequests ? TimeSpan.Zero : null),
                OnRetry = args =>
                {
                    log.LogWarning("{Vendor} {Operation}: attempt {Attempt} failed ({Outcome}); retrying in {Delay} ms",
                        vendor, OperationOf(args.Outcome.Result?.RequestMessage), args.AttemptNumber + 1, Describe(args.Outcome),
                        (int)Math.Max(args.RetryDelay.TotalMilliseconds, gate.For(context.ServiceProvider).Paused.TotalMilliseconds));
                    return ValueTask.CompletedTask;
                },
            });
        });
        client.AddHttpMessageHandler(sp => new GateHandler(gate.For(sp), settings.DefaultRetryAfter, settings.MaxTokenAge));
        client.AddResilienceHandler($"{vendor}-attempt", pipeline => pipeline.AddTimeout(settings.AttemptTimeout));
        client.AddHttpMessageHandler(sp => new ObservingHandler(vendor, sp.GetRequiredService<IVendorCallObserver>()));
        return client;
    }

    public static bool IsTransient(HttpStatusCode status) =>
        (int)status >= 500 || status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests;

    private static bool IsTransient(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        { Exception: HttpRequestException or TimeoutRejectedException } => true,
        { Result: { } r } => IsTransient(r.StatusCode),
        _ => false,
    };

    private static string Describe(Outcome<HttpResponseMessage> outcome) =>
        outcome.Exception is { } e ? e.GetType().Name : $"HTTP {(int)outcome.Result!.StatusCode}";

    private static bool NotBlindlyRepeatable(HttpRequestMessage? request) =>
        request is not null && request.Options.TryGetValue(NotBlindlyRepeated, out var value) && value;

    internal static string OperationOf(HttpRequestMessage? request) =>
        request is not null && request.Options.TryGetValue(Operation, out var op) ? op : "call";

    /// <summary>Retry-After as delta-seconds or an HTTP date.</summary>
    public static TimeSpan? RetryAfter(HttpResponseMessage response, TimeProvider? time = null)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta) return delta;
        if (header?.Date is { } date)
        {
            var left = date - (time ?? TimeProvider.System).GetUtcNow();
            return left > TimeSpan.Zero ? left : TimeSpan.Zero;
        }
        return null;
    }

    /// <summary>
    /// Takes a token and sends. A token that reached this point later than <c>maxTokenAge</c> after it was asked for
    /// (a slow database answer, a starved thread pool) is spent unused and another one taken: the vendor meters arrivals,
    /// and tokens granted over more than a second must not arrive within one because some were held up on the way
    /// (seen in the full-size kill test: 26 of 2,077 requests refused as over the rate). So at most
    /// RequestsPerSecond × (1 s + maxTokenAge) + Burst requests leave in any second.
    /// </summary>
    private sealed class GateHandler(VendorRateGate gate, TimeSpan defaultRetryAfter, TimeSpan maxTokenAge) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
        {
            while (gate.TokenAge(await gate.Enter(ct)) > maxTokenAge)
                VendorMetrics.StaleTokens.WithLabels(gate.Vendor).Inc();
            var response = await base.SendAsync(request, ct);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
                await gate.PauseEverywhere(RetryAfter(response) ?? defaultRetryAfter, ct);
            return response;
        }
    }

    private sealed class ObservingHandler(string vendor, IVendorCallObserver observer) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
        {
            var at = DateTimeOffset.UtcNow;
            var clock = Stopwatch.StartNew();
            try
            {
                var response = await base.SendAsync(request, ct);
                var status = (int)response.StatusCode;
                Observe(new VendorCallObservation(vendor, OperationOf(request), status, clock.Elapsed.TotalMilliseconds,
                    WasRateLimited: status == 429, WasError: status >= 500, at));
                return response;
            }
            catch (Exception)
            {
                Observe(new VendorCallObservation(vendor, OperationOf(request), null, clock.Elapsed.TotalMilliseconds,
                    WasRateLimited: false, WasError: true, at));
                throw;
            }
        }

        private void Observe(VendorCallObservation o)
        {
            try { observer.Called(o); }
            catch { /* an observation never fails a vendor call */ }
        }
    }
}

/// <summary>Sending through the pipeline and turning what survived it into Steller's terms.</summary>
public static class VendorHttp
{
    /// <summary>
    /// Sends <paramref name="request"/> as <paramref name="operation"/>. Returns any non-transient response (2xx, 4xx other
    /// than 408/429) to the caller; throws <see cref="VendorUnavailableException"/> when the retries ran out.
    /// </summary>
    public static async Task<HttpResponseMessage> Send(HttpClient http, string vendor, string operation, HttpRequestMessage request,
        ILogger log, CancellationToken ct)
    {
        request.Options.Set(VendorHttpPipeline.Operation, operation);
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, ct);
        }
        catch (Exception e) when (e is HttpRequestException or TimeoutRejectedException
                                  || (e is OperationCanceledException && !ct.IsCancellationRequested))
        {
            log.LogWarning("{Vendor} {Operation}: unavailable after retries ({Error})", vendor, operation, e.GetType().Name);
            throw new VendorUnavailableException(vendor, $"{operation} failed after retries: {e.GetType().Name}: {e.Message}", e);
        }
        if (VendorHttpPipeline.IsTransient(response.StatusCode))
        {
            var status = (int)response.StatusCode;
            response.Dispose();
            log.LogWarning("{Vendor} {Operation}: unavailable after retries (HTTP {Status})", vendor, operation, status);
            throw new VendorUnavailableException(vendor, $"{operation} failed after retries: HTTP {status}");
        }
        return response;
    }
}
