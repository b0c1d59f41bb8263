namespace Steller.Api.Http;

/// <summary>
/// Gives every request a correlation id: X-Correlation-Id when the caller sends a sane one, else the trace id of
/// a W3C traceparent, else a new one. It is echoed in the response, put in every log line's scope and in problem details.
/// </summary>
public sealed class Correlation(RequestDelegate next, ILogger<Correlation> logger)
{
    public const string Header = "X-Correlation-Id";
    private const string ItemKey = "steller.correlation-id";

    public static string Of(HttpContext context) => context.Items[ItemKey] as string ?? context.TraceIdentifier;

    public async Task Invoke(HttpContext context)
    {
        var id = FromHeader(context.Request.Headers[Header]) ?? FromTraceparent(context.Request.Headers["traceparent"]) ?? Guid.NewGuid()
            .ToString("N");
        context.Items[ItemKey] = id;
        context.Response.Headers[Header] = id;
        using (logger.BeginScope(new Dictionary<string, object> { ["CorrelationId"] = id }))
            await next(context);
    }

    private static string? FromHeader(string? value) =>
        !string.IsNullOrEmpty(value) && value.Length <= 128 && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':')
            ? value : null;

    // traceparent: version-traceid-parentid-flags, trace id 32 lowercase hex, not all zeros.
    private static string? FromTraceparent(string? value)
    {
        if (string.IsNullOrEmpty(value)) return null;
        var parts = value.Split('-');
        if (parts.Length < 4 || parts[1].Length != 32 || !parts[1].All(char.IsAsciiHexDigitLower) || parts[1].All(c => c == '0'))
            return null;
        return parts[1];
    }
}
