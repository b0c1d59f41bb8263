using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Threading.Channels;
using Dapper;
using Npgsql;
using NpgsqlTypes;
using Prometheus;
using Steller.Api.Http;
using Steller.Infrastructure.Configuration;

namespace Steller.Api.Partners.RequestLog;

/// <summary>One request in a partner's own log: never a body, a signature, a secret or a query string.</summary>
public sealed record PartnerRequestEntry(long Id, DateTime At, string Method, string Route, int Status, string? ProblemCode,
    double LatencyMs, string KeyId, string CorrelationId, string ClientIp);

public sealed record PartnerRequestPage(IReadOnlyList<PartnerRequestEntry> Items, string? Next);

/// <summary>
/// Each partner's request log (steller.partner_requests). <see cref="Enqueue"/> is all the request path does: a non-blocking
/// write into a bounded in-memory queue (Partners:RequestLogQueueCapacity); when the queue is full the entry is dropped and
/// counted in <c>steller_request_log_dropped_total</c>, never waited for. <see cref="RequestLogWriter"/> writes what is
/// queued in one insert per batch every Partners:RequestLogFlushMilliseconds. Rows older than Retention:PartnerRequestsDays
/// are purged by the retention job.
/// </summary>
public sealed class PartnerRequestLog(NpgsqlDataSource db, StellerSettings settings)
{
    public sealed record Entry(DateTimeOffset At, string PartnerId, string KeyId, string Method, string Route, int Status,
        string? ProblemCode, double LatencyMs, string CorrelationId, string ClientIp);

    public static readonly Counter Dropped = Metrics.CreateCounter("steller_request_log_dropped_total",
        "Partner request log entries dropped because the node's queue was full (the request itself was answered normally).");

    private readonly Channel<Entry> queue = Channel.CreateBounded<Entry>(new BoundedChannelOptions(settings.Partners.RequestLogQueueCapacity)
    {
        FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true, SingleWriter = false,
    }, _ => Dropped.Inc());

    public const int BatchSize = 1_000;

    /// <summary>Queues the entry (never blocks; counted as dropped when the queue is full).</summary>
    public void Enqueue(Entry entry) => queue.Writer.TryWrite(entry);

    /// <summary>Writes everything queued now, in batches; returns how many rows.</summary>
    public async Task<int> Flush(CancellationToken ct = default)
    {
        var written = 0;
        var batch = new List<Entry>(BatchSize);
        while (true)
        {
            batch.Clear();
            while (batch.Count < BatchSize && queue.Reader.TryRead(out var e)) batch.Add(e);
            if (batch.Count == 0) return written;
            await Insert(batch, ct);
            written += batch.Count;
        }
    }

    private async Task Insert(List<Entry> batch, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            insert into steller.partner_requests (at, partner_id, key_id, method, route, status, problem_code, latency_ms, correlation_id, client_ip)
            select * from unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::text[], $8::float8[],
                                 $9::text[], $10::text[])
            """);
        void Add<T>(NpgsqlDbType type, Func<Entry, T> pick) =>
            cmd.Parameters.Add(new NpgsqlParameter { Value = batch.Select(pick).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | type });
        Add(NpgsqlDbType.TimestampTz, e => e.At.UtcDateTime);
        Add(NpgsqlDbType.Text, e => e.PartnerId);
        Add(NpgsqlDbType.Text, e => e.KeyId);
        Add(NpgsqlDbType.Text, e => e.Method);
        Add(NpgsqlDbType.Text, e => e.Route);
        Add(NpgsqlDbType.Integer, e => e.Status);
        Add(NpgsqlDbType.Text, e => e.ProblemCode);
        Add(NpgsqlDbType.Double, e => e.LatencyMs);
        Add(NpgsqlDbType.Text, e => e.CorrelationId);
        Add(NpgsqlDbType.Text, e => e.ClientIp);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The partner's requests, newest first; <paramref name="after"/> is the id of the last entry of the previous page.</summary>
    /// <param name="status">An exact status (404), or with <paramref name="statusClass"/> its class (4xx).</param>
    /// <param name="route">A route template prefix, e.g. /v1/orders.</param>
    public async Task<PartnerRequestPage> Query(string partnerId, DateTimeOffset? from, DateTimeOffset? to, int? status, bool statusClass,
        string? route, int limit, long? after, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var rows = (await conn.QueryAsync<PartnerRequestEntry>(new CommandDefinition("""
            select id as Id, at as At, method as Method, route as Route, status as Status, problem_code as ProblemCode,
                   latency_ms as LatencyMs, key_id as KeyId, correlation_id as CorrelationId, client_ip as ClientIp
              from steller.partner_requests
             where partner_id = @partnerId
               and (@from::timestamptz is null or at >= @from)
               and (@to::timestamptz is null or at < @to)
               and (@status::int is null or (case when @statusClass then status / 100 = @status / 100 else status = @status end))
               and (@route::text is null or starts_with(route, @route))
               and (@after::bigint is null or id < @after)
             order by id desc
             limit @count
            """, new { partnerId, from = from?.UtcDateTime, to = to?.UtcDateTime, status, statusClass, route, after, count = limit + 1 },
            cancellationToken: ct))).ToList();
        var next = rows.Count > limit ? EncodeCursor(rows[limit - 1].Id) : null;
        return new PartnerRequestPage(rows.Take(limit).ToList(), next);
    }

    public static string EncodeCursor(long id) => Convert.ToBase64String(Encoding.ASCII.GetBytes($"r{id}")).TrimEnd('=');

    public static bool TryDecodeCursor(string? text, out long? id)
    {
        id = null;
        if (string.IsNullOrEmpty(text)) return true;
        try
        {
            var raw = Encoding.ASCII.GetString(Convert.FromBase64String(text.PadRight(text.Length + (4 - text.Length % 4) % 4, '=')));
            if (raw.StartsWith('r')
                && long.TryParse(raw.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var v)) { id = v; return true; }
        }
        catch (FormatException) { }
        return false;
    }
}

/// <summary>
/// Around every /v1 request (outside the signature check, so rate-limited answers are logged too): after the answer, a
/// request whose partner was verified is queued for its partner's log. Requests refused before a partner was known (401) are
/// not any partner's.
/// </summary>
public sealed class PartnerRequestLogging(RequestDelegate next, PartnerRequestLog log, Steller.Application.Time.IClock clock)
{
    public async Task Invoke(HttpContext context)
    {
        var at = clock.UtcNow;
        var started = Stopwatch.GetTimestamp();
        var failed = false;
        try { await next(context); }
        catch { failed = true; throw; }
        finally
        {
            if (AuthenticatedPartner.Of(context) is { } partner)
            {
                var address = context.Connection.RemoteIpAddress;
                if (address is { IsIPv4MappedToIPv6: true }) address = address.MapToIPv4();
                log.Enqueue(new PartnerRequestLog.Entry(at, partner.PartnerId, partner.KeyId, context.Request.Method,
                    (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "(no route)",
                    failed ? StatusCodes.Status500InternalServerError : context.Response.StatusCode,
                    context.Items[Problems.ProblemCodeItem] as string, Stopwatch.GetElapsedTime(started).TotalMilliseconds,
                    Correlation.Of(context), address?.ToString() ?? "unknown"));
            }
        }
    }
}

/// <summary>Writes the queued request log every Partners:RequestLogFlushMilliseconds, and what is left when the node stops.</summary>
public sealed class RequestLogWriter(PartnerRequestLog log, StellerSettings settings, ILogger<RequestLogWriter> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(settings.Partners.RequestLogFlushMilliseconds));
        try { while (await timer.WaitForNextTickAsync(stoppingToken)) await Flush(stoppingToken); }
        catch (OperationCanceledException) { }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await Flush(cancellationToken);
    }

    private async Task Flush(CancellationToken ct)
    {
        try { await log.Flush(ct); }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning("Writing the partner request log failed (that batch is lost): {Error}", e.Message);
        }
    }
}
