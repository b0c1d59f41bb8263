using Dapper;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Steller.Application.Alerts;
using Steller.Application.Time;
using Steller.Domain.Alerts;
using Steller.Infrastructure.Configuration;
using Steller.Infrastructure.Webhooks;

namespace Steller.Projections.Alerts;

/// <summary>
/// <c>Alerts:*</c>: how often the watch looks (<see cref="CheckInterval"/>) and the vendor thresholds: a vendor whose error rate
/// (no answer or 5xx) or 429 rate was above its threshold in every minute of the last <see cref="VendorWindowMinutes"/> minutes.
/// </summary>
public sealed record AlertOptions
{
    public TimeSpan CheckInterval { get; init; } = TimeSpan.FromSeconds(30);
    public double VendorErrorRate { get; init; } = 0.2;
    public double VendorRateLimitedRate { get; init; } = 0.2;
    public int VendorWindowMinutes { get; init; } = 5;

    /// <summary>Binds <c>Alerts:*</c>; a bad value throws <see cref="ConfigurationException"/> naming the key (one line at startup).</summary>
    public static AlertOptions Load(IConfiguration configuration)
    {
        var s = configuration.GetSection("Alerts");
        return new AlertOptions
        {
            CheckInterval = TimeSpan.FromSeconds(SettingValues.Number(s, "CheckSeconds", 30, 0.001, 86_400)),
            VendorErrorRate = SettingValues.Number(s, "VendorErrorRate", 0.2, 0, 1),
            VendorRateLimitedRate = SettingValues.Number(s, "VendorRateLimitedRate", 0.2, 0, 1),
            VendorWindowMinutes = SettingValues.WholeNumber(s, "VendorWindowMinutes", 5, 1, 60),
        };
    }
}

/// <summary>
/// Compares what is wrong now with the alerts open now, and raises or resolves through <see cref="IAlerts"/>: every cause the
/// watch knows is a query over a read model or an operational table (read.low_stock, read.negative_margin_products,
/// read.orders, ops.vendor_calls, ops.webhook_endpoints and ops.webhook_messages). A cause still there raises nothing new (the
/// alert is open); a cause gone closes its alert. It also disables webhook endpoints whose every attempt failed for
/// <see cref="WebhookOptions.DisableAfterFailing"/>. Kinds it does not watch (audit_drift) are left to whoever raises them.
/// </summary>
public sealed class AlertWatch(NpgsqlDataSource db, IAlerts alerts, AlertsQuery query, WebhookStore webhooks, WebhookOptions webhookOptions,
    AlertOptions options, OrderSettings orders, IClock clock, ILogger<AlertWatch> log)
{
    public static readonly IReadOnlyList<string> WatchedKinds =
    [
        AlertKinds.StockLow, AlertKinds.NegativeMargin, AlertKinds.OrderStuck, AlertKinds.VendorErrors, AlertKinds.VendorRateLimited,
        AlertKinds.WebhookFailed, AlertKinds.WebhookEndpointDisabled,
    ];

    private readonly SemaphoreSlim one = new(1, 1);

    /// <summary>One look: disables endpoints failing too long, then raises what is wrong and resolves what is not. How many changed.</summary>
    public async Task<(int Opened, int Closed)> Check(CancellationToken ct)
    {
        await one.WaitAsync(ct);
        try
        {
            var now = clock.UtcNow;
            foreach (var id in await webhooks.DisableFailing(now - webhookOptions.DisableAfterFailing, now, ct))
                log.LogWarning("Webhook endpoint {EndpointId} disabled: every attempt failed for {Days} days", id, webhookOptions.DisableAfterFailing.TotalDays);
            var causes = await Causes(now, ct);
            if (causes is null) return (0, 0);
            var open = (await query.OpenCauses(WatchedKinds, ct)).ToHashSet();
            int opened = 0, closed = 0;
            foreach (var ((kind, subject), details) in causes)
                if (!open.Contains((kind, subject)) && await alerts.Raise(kind, subject, details, ct)) opened++;
            foreach (var cause in open)
                if (!causes.ContainsKey(cause) && await alerts.Resolve(cause.Kind, cause.Subject, "the cause is gone", ct)) closed++;
            return (opened, closed);
        }
        finally
        {
            one.Release();
        }
    }

    /// <summary>Every cause present now with its details; null while a read model it needs is still being built.</summary>
    private async Task<Dictionary<(string Kind, string Subject), string>?> Causes(DateTimeOffset now, CancellationToken ct)
    {
        var causes = new Dictionary<(string, string), string>();
        await using var conn = await db.OpenConnectionAsync(ct);
        try
        {
            foreach (var (sku, location, available, threshold) in await conn.QueryAsync<(string, string, long, long)>(new CommandDefinition(
                         "select sku, location, available, threshold from read.low_stock", cancellationToken: ct)))
                causes[(AlertKinds.StockLow, $"{sku}@{location}")] = $"Stock of {sku} at {location}: {available} available, threshold {threshold}.";

            foreach (var (partner, sku, price, cost) in await conn.QueryAsync<(string, string, long, long)>(new CommandDefinition(
                         "select partner_id, sku, unit_price, unit_cost from read.negative_margin_products", cancellationToken: ct)))
                causes[(AlertKinds.NegativeMargin, $"{partner}/{sku}")] = $"{sku} is priced for {partner} at {price}, below its cost {cost} (minor units).";

            var stuckSince = now - TimeSpan.FromMinutes(orders.StuckAfterMinutes);
            foreach (var (order, status, since) in await conn.QueryAsync<(string, string, DateTime)>(new CommandDefinition("""
                         select order_id, status, updated_at from read.orders
                          where status in ('Placed', 'FundsHeld', 'Submitted') and updated_at < @stuckSince
                          order by updated_at limit 1000
                         """, new { stuckSince = stuckSince.UtcDateTime }, cancellationToken: ct)))
                causes[(AlertKinds.OrderStuck, order)] = $"Order {order} has been {status} since {since:O} (more than {orders.StuckAfterMinutes} min).";
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return null; // a read model is being built; look again next time
        }

        // Vendors: above the threshold in every minute of the window (each minute with calls).
        var windowStart = now - TimeSpan.FromMinutes(options.VendorWindowMinutes);
        foreach (var (vendor, minutes, errorMinutes, limitedMinutes, calls, errors, limited) in
                 await conn.QueryAsync<(string, long, long, long, long, long, long)>(new CommandDefinition("""
                     select vendor, count(*), count(*) filter (where errors > @errorRate * calls), count(*) filter (where limited > @limitedRate * calls),
                            sum(calls)::bigint, sum(errors)::bigint, sum(limited)::bigint
                       from (select vendor, floor(extract(epoch from (at - @start)) / 60) as minute, count(*) as calls,
                                    count(*) filter (where was_error) as errors, count(*) filter (where was_429) as limited
                               from ops.vendor_calls where at >= @start and at < @end group by 1, 2) m
                      group by vendor
                     """, new { start = windowStart.UtcDateTime, end = now.UtcDateTime, errorRate = options.VendorErrorRate,
                         limitedRate = options.VendorRateLimitedRate, }, cancellationToken: ct)))
        {
            if (minutes < options.VendorWindowMinutes) continue;
            if (errorMinutes == minutes)
                causes[(AlertKinds.VendorErrors, vendor)] =
                    $"{vendor}: {errors} of {calls} calls failed (no answer or 5xx) in the last {options.VendorWindowMinutes} min, above {options.VendorErrorRate:P0} every minute.";
            if (limitedMinutes == minutes)
                causes[(AlertKinds.VendorRateLimited, vendor)] =
                    $"{vendor}: {limited} of {calls} calls answered 429 in the last {options.VendorWindowMinutes} min, above {options.VendorRateLimitedRate:P0} every minute.";
        }

        foreach (var (endpoint, partner, failed) in await webhooks.FailedByEndpoint(ct))
            causes[(AlertKinds.WebhookFailed, endpoint)] = $"{failed} message(s) to webhook endpoint {endpoint} of {partner} failed for good; recover sends them again.";
        foreach (var (endpoint, partner) in await webhooks.DisabledForFailing(ct))
            causes[(AlertKinds.WebhookEndpointDisabled, endpoint)] =
                $"Webhook endpoint {endpoint} of {partner} was disabled: every attempt failed for {webhookOptions.DisableAfterFailing.TotalDays:0.#} days.";
        return causes;
    }
}

/// <summary>Runs <see cref="AlertWatch.Check"/> every <see cref="AlertOptions.CheckInterval"/> (real time).</summary>
public sealed class AlertWatchService(AlertWatch watch, AlertOptions options, ILogger<AlertWatchService> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try { await Task.Delay(options.CheckInterval, stoppingToken); }
            catch (OperationCanceledException) { break; }
            try { await watch.Check(stoppingToken); }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { break; }
            catch (Exception e) { log.LogWarning(e, "The alert watch failed; it looks again in {Seconds} s", options.CheckInterval.TotalSeconds); }
        }
    }
}
