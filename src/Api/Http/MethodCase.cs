namespace Steller.Api.Http;

/// <summary>
/// HTTP methods are case-sensitive (RFC 9110 §9.1): "post" is not POST. ASP.NET Core routing matches methods ignoring case,
/// so a method that is not all capitals is refused here, before routing: 405 method_not_allowed, nothing runs.
/// </summary>
public sealed class MethodCase(RequestDelegate next)
{
    public Task Invoke(HttpContext context)
    {
        var method = context.Request.Method;
        if (!method.Any(char.IsAsciiLetterLower)) return next(context);
        var detail = method.Length <= 20 && method.All(char.IsAsciiLetter)
            ? $"HTTP methods are case-sensitive: {method} is not {method.ToUpperInvariant()}, and not a method of this API."
            : "HTTP methods are case-sensitive, and this one is not a method of this API.";
        return Problems.Result(405, "method_not_allowed", detail).ExecuteAsync(context);
    }
}
