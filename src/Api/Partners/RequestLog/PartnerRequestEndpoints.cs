using System.Globalization;
using Steller.Api.Admin;
using Steller.Api.Http;

namespace Steller.Api.Partners.RequestLog;

/// <summary>GET /v1/requests: the calling partner's own request log, newest first, in cursor pages.</summary>
public sealed class PartnerRequestEndpoints : IEndpointModule
{
    public void Map(IEndpointRouteBuilder app) =>
        app.MapGroup("/v1").WithTags("Partner API").MapGet("/requests", async (AuthenticatedPartner partner, string? from, string? to,
                string? status, string? path, string? limit, string? after, PartnerRequestLog log, CancellationToken ct) =>
            {
                if (!QueryParameters.TryRange(from, to, out var fromAt, out var toAt, out var problem)
                    || !QueryParameters.TryLimit(limit, 50, 500, out var count, out problem))
                    return problem!;
                if (!TryStatus(status, out var code, out var statusClass))
                    return Problems.Result(400, "invalid_query", "'status' must be a status code such as 404 or a class such as 4xx.",
                        new Dictionary<string, object?> { ["parameter"] = "status" });
                if (!PartnerRequestLog.TryDecodeCursor(after, out var afterId)) return QueryParameters.InvalidCursor();
                return Results.Ok(await log.Query(partner.PartnerId, fromAt, toAt, code, statusClass,
                    string.IsNullOrEmpty(path) ? null : path, count, afterId, ct));
            })
            .WithSummary("The calling partner's own requests, newest first: time, method, route template, status, problem code, latency, "
                         + "key id, correlation id, client IP — never a body, signature or secret. Filters: from (inclusive), to "
                         + "(exclusive), status (404 or 4xx), path (a route template prefix such as /v1/orders); cursor pages (limit, after). "
                         + "Written in batches about a second behind; kept 30 days.")
            .Produces<PartnerRequestPage>()
            .ProducesProblem(400).ProducesProblem(401);

    private static bool TryStatus(string? text, out int? code, out bool statusClass)
    {
        code = null;
        statusClass = false;
        if (string.IsNullOrEmpty(text)) return true;
        if (text.Length == 3 && text[0] is >= '1' and <= '5' && text.EndsWith("xx", StringComparison.OrdinalIgnoreCase))
        {
            (code, statusClass) = ((text[0] - '0') * 100, true);
            return true;
        }
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var exact) && exact is >= 100 and <= 599)
        {
            code = exact;
            return true;
        }
        return false;
    }
}
