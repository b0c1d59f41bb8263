using Prometheus;
using Steller.Api.Http;
using Steller.Domain.Partners;
using Steller.Infrastructure.Configuration;

namespace Steller.Api.Partners.RateLimiting;

/// <summary>
/// Rate limits of the signed /v1 API, applied by <see cref="Signing.PartnerSignatures"/>:
/// <list type="bullet">
/// <item>per partner, only for requests whose signature verified (and whose nonce was fresh), so forged or replayed
/// traffic cannot spend a partner's budget: the partner's own limit (PUT /admin/partners/{id}/rate-limit) or
/// RateLimits:RequestsPerSecond/Burst;</item>
/// <item>per client IP for refused (401) requests: once an address has spent RateLimits:UnauthenticatedPerIp*, every /v1
/// request from it is answered 429 before any verification work (no stream read, no HMAC, no database write).</item>
/// </list>
/// Buckets live in each node's memory; each node enforces 1/RateLimits:Nodes of every limit (rate divided, burst divided
/// and rounded up). Admitted requests carry <c>RateLimit</c> and <c>RateLimit-Policy</c>; refusals are
/// <c>429 rate_limited</c> with <c>Retry-After</c> too (draft-ietf-httpapi-ratelimit-headers: <c>"policy";q=;w=</c> and
/// <c>"policy";r=;t=</c>).
/// </summary>
public sealed class RequestRateLimits(StellerSettings settings)
{
    public const string PartnerPolicy = "partner", IpPolicy = "unauthenticated";
    /// <summary>The metric label of per-IP refusals ('_' cannot occur in a partner id).</summary>
    public const string UnauthenticatedLabel = "_unauthenticated";

    public static readonly Counter Limited = Metrics.CreateCounter("steller_rate_limited_total",
        "Requests answered 429 rate_limited, by partner (_unauthenticated: per-IP limit of refused requests).",
        new CounterConfiguration { LabelNames = ["partner"] });

    private readonly TokenBuckets partners = new(), addresses = new();
    private readonly RateLimitSettings limits = settings.RateLimits;

    /// <summary>This node's share of the partner's limit: rate / Nodes, burst / Nodes rounded up (at least 1).</summary>
    public (double Rate, double Burst) PartnerShare(Partner partner)
    {
        var (rate, burst) = partner.RateLimit is { } own ? (own.RequestsPerSecond, own.Burst) : (limits.RequestsPerSecond, limits.Burst);
        return Share(rate, burst);
    }

    private (double Rate, double Burst) IpShare => Share(limits.UnauthenticatedPerIpPerSecond, limits.UnauthenticatedPerIpBurst);

    private (double Rate, double Burst) Share(int rate, int burst) =>
        ((double)rate / limits.Nodes, Math.Max(1, Math.Ceiling((double)burst / limits.Nodes)));

    /// <summary>Takes one token of the partner's; writes the headers; null when admitted, else the 429 to answer.</summary>
    public IResult? AdmitPartner(HttpContext context, Partner partner, DateTimeOffset now)
    {
        if (!limits.Enabled) return null;
        var (rate, burst) = PartnerShare(partner);
        var admission = this.partners.Take(partner.Id!, rate, burst, now);
        Headers(context, PartnerPolicy, rate, burst, admission);
        if (admission.Admitted) return null;
        Limited.WithLabels(partner.Id!).Inc();
        return Refusal(context, admission, "This partner's request rate limit is exhausted; retry after the Retry-After seconds.");
    }

    /// <summary>The 429 to answer at once when this address already spent its refused-request budget; else null.</summary>
    public IResult? CheckAddress(HttpContext context, DateTimeOffset now)
    {
        if (!limits.Enabled) return null;
        var (rate, burst) = IpShare;
        if (!addresses.IsEmpty(AddressKey(context), rate, burst, now, out var state)) return null;
        Headers(context, IpPolicy, rate, burst, state);
        Limited.WithLabels(UnauthenticatedLabel).Inc();
        return Refusal(context, state, "Too many refused requests from this address; retry after the Retry-After seconds.");
    }

    /// <summary>Counts a refused (401) request against its client address.</summary>
    public void ChargeAddress(HttpContext context, DateTimeOffset now)
    {
        if (!limits.Enabled) return;
        var (rate, burst) = IpShare;
        addresses.Take(AddressKey(context), rate, burst, now);
    }

    /// <summary>Forgets full buckets (they start full anyway).</summary>
    public int Prune(DateTimeOffset now) => partners.Prune(now) + addresses.Prune(now);

    private static string AddressKey(HttpContext context)
    {
        var address = context.Connection.RemoteIpAddress;
        if (address is { IsIPv4MappedToIPv6: true }) address = address.MapToIPv4();
        return address?.ToString() ?? "unknown";
    }

    private static void Headers(HttpContext context, string policy, double rate, double burst, Admission admission)
    {
        var window = Math.Max(1, (int)Math.Ceiling(burst / rate));
        context.Response.Headers["RateLimit-Policy"] = $"\"{policy}\";q={(long)burst};w={window}";
        context.Response.Headers["RateLimit"] = $"\"{policy}\";r={admission.Remaining};t={admission.ResetSeconds}";
    }

    private static IResult Refusal(HttpContext context, Admission admission, string detail)
    {
        context.Response.Headers.RetryAfter = Math.Max(1, admission.RetryAfterSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Problems.Result(StatusCodes.Status429TooManyRequests, "rate_limited", detail);
    }
}

/// <summary>Forgets full rate-limit buckets once a minute, so idle partners and addresses cost no memory.</summary>
public sealed class RateLimitPruner(RequestRateLimits limits, Steller.Application.Time.IClock clock) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(1));
        try { while (await timer.WaitForNextTickAsync(stoppingToken)) limits.Prune(clock.UtcNow); }
        catch (OperationCanceledException) { }
    }
}
