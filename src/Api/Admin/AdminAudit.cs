using System.Globalization;
using System.Security.Claims;
using System.Text;
using Dapper;
using Npgsql;
using Steller.Api.Http;
using Steller.Application.Time;
using Steller.Infrastructure.Admin;

namespace Steller.Api.Admin;

/// <param name="ApiKeyId">For a partner's own key command (actor partner:&lt;id&gt;, role partner): the key that signed it.</param>
public sealed record AdminAuditEntry(long Id, DateTime At, string Actor, string Role, string Method, string Route, string Path,
    string? Target, int Status, string CorrelationId, string? ApiKeyId);

public sealed record AdminAuditPage(IReadOnlyList<AdminAuditEntry> Items, string? Next);

/// <summary>
/// Records every admin command — any non-GET request under /admin by an authenticated admin token — after it ran:
/// actor (token name), role, method, route, path, target (route values), outcome (status code), correlation id and time.
/// Request bodies and query strings are never recorded (they may carry secrets). Sits around the authorization
/// middleware so refused commands (403) are recorded too; requests without a valid token (401) have no actor and are only logged.
/// A partner's own key commands (non-GET under <see cref="PartnerKeysPrefix"/>, after the signature was verified) are
/// recorded in the same audit: actor <c>partner:&lt;id&gt;</c>, role <c>partner</c>, and the API key that signed them.
/// </summary>
public sealed class AdminAuditMiddleware(RequestDelegate next, AdminAuditLog log, IClock clock, ILogger<AdminAuditMiddleware> logger)
{
    public const string PartnerKeysPrefix = "/v1/api-keys";
    public const string PartnerRole = "partner";

    public async Task Invoke(HttpContext context)
    {
        var request = context.Request;
        var partnerKeys = request.Path.StartsWithSegments(PartnerKeysPrefix);
        if (!(partnerKeys || request.Path.StartsWithSegments(AdminApi.Prefix)) || HttpMethods.IsGet(request.Method)
            || HttpMethods.IsHead(request.Method)
            || HttpMethods.IsOptions(request.Method))
        {
            await next(context);
            return;
        }
        var at = clock.UtcNow;
        var failed = false;
        try { await next(context); }
        catch { failed = true; throw; }
        finally
        {
            var status = failed ? StatusCodes.Status500InternalServerError : context.Response.StatusCode;
            var user = context.User;
            if (partnerKeys && Partners.AuthenticatedPartner.Of(context) is { } partner)
                await Record(context, new AdminAuditLog.Entry(at, $"partner:{partner.PartnerId}", null, PartnerRole, request.Method,
                    Route(context), request.Path.Value ?? "", Target(context), status, Correlation.Of(context), partner.KeyId));
            else if (user.Identity is { IsAuthenticated: true, AuthenticationType: AdminBearerHandler.Scheme }
                && Guid.TryParse(user.FindFirstValue(AdminBearerHandler.TokenIdClaim), out var tokenId))
            {
                await Record(context, new AdminAuditLog.Entry(at, user.Identity.Name!, tokenId, user.FindFirstValue(ClaimTypes.Role)!,
                    request.Method, Route(context), request.Path.Value ?? "", Target(context), status, Correlation.Of(context), null));
            }
            else logger.LogInformation("Unauthenticated admin command {Method} {Path} answered {Status}", request.Method, request.Path,
                status);
        }
    }

    private async Task Record(HttpContext context, AdminAuditLog.Entry entry)
    {
        try { await log.Record(entry); }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            logger.LogError(e, "Could not record the admin audit of {Method} {Path} by {Actor} ({Status})", entry.Method,
                context.Request.Path, entry.Actor, entry.Status);
        }
    }

    private static string Route(HttpContext context) =>
        (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? context.Request.Path.Value ?? "";

    private static string? Target(HttpContext context)
    {
        var values = context.Request.RouteValues;
        return values.Count == 0 ? null
            : string.Join(",", values.OrderBy(v => v.Key, StringComparer.Ordinal).Select(v => $"{v.Key}={v.Value}"));
    }
}

/// <summary>The audit table (steller.admin_audit, exposed as read.admin_audit) and its cursor query.</summary>
public sealed class AdminAuditLog(NpgsqlDataSource dataSource)
{
    /// <param name="TokenId">The admin token (null for a partner's own key command).</param>
    /// <param name="ApiKeyId">The API key that signed a partner's own key command (null for an admin).</param>
    public sealed record Entry(DateTimeOffset At, string Actor, Guid? TokenId, string Role, string Method, string Route, string Path,
        string? Target, int Status, string CorrelationId, string? ApiKeyId);

    public async Task Record(Entry r)
    {
        await using var conn = await dataSource.OpenConnectionAsync();
        await conn.ExecuteAsync("""
            insert into steller.admin_audit (at, actor, token_id, role, method, route, path, target, status, correlation_id, api_key_id)
            values (@At, @Actor, @TokenId, @Role, @Method, @Route, @Path, @Target, @Status, @CorrelationId, @ApiKeyId)
            """, new { At = r.At.UtcDateTime, r.Actor, r.TokenId, r.Role, r.Method, r.Route, r.Path, r.Target, r.Status, r.CorrelationId,
                r.ApiKeyId });
    }

    /// <summary>Newest first; <paramref name="after"/> is the id of the last entry of the previous page.</summary>
    public async Task<AdminAuditPage> Query(string? actor, DateTimeOffset? from, DateTimeOffset? to, int limit, long? after,
        CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var rows = (await conn.QueryAsync<AdminAuditEntry>(new CommandDefinition("""
            select id as Id, at as At, actor as Actor, role as Role, method as Method, route as Route, path as Path, target as Target,
                   status as Status, correlation_id as CorrelationId, api_key_id as ApiKeyId
              from steller.admin_audit
             where (@actor::text is null or actor = @actor)
               and (@from::timestamptz is null or at >= @from)
               and (@to::timestamptz is null or at < @to)
               and (@after::bigint is null or id < @after)
             order by id desc
             limit @count
            """, new { actor, from = from?.UtcDateTime, to = to?.UtcDateTime, after, count = limit + 1 }, cancellationToken: ct))).ToList();
        var next = rows.Count > limit ? EncodeCursor(rows[limit - 1].Id) : null;
        return new AdminAuditPage(rows.Take(limit).ToList(), next);
    }

    public static string EncodeCursor(long id) => Convert.ToBase64String(Encoding.ASCII.GetBytes($"a{id}")).TrimEnd('=');

    public static bool TryDecodeCursor(string? text, out long? id)
    {
        id = null;
        if (string.IsNullOrEmpty(text)) return true;
        try
        {
            var raw = Encoding.ASCII.GetString(Convert.FromBase64String(text.PadRight(text.Length + (4 - text.Length % 4) % 4, '=')));
            if (raw.StartsWith('a')
                && long.TryParse(raw.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var v)) { id = v; return true; }
        }
        catch (FormatException) { }
        return false;
    }
}
