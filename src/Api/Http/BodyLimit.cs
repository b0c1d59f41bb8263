using Microsoft.AspNetCore.Http.Features;

namespace Steller.Api.Http;

/// <summary>
/// Refuses a body over Http:MaxRequestBodyBytes before reading it (Content-Length), and caps bodies without a
/// length (chunked) through the server's own limit, which surfaces as a 413 problem while reading.
/// </summary>
public sealed class BodyLimit(RequestDelegate next, int maxBytes)
{
    public Task Invoke(HttpContext context)
    {
        if (context.Request.ContentLength > maxBytes)
            return Problems.Result(413, "body_too_large", $"The request body is {context.Request.ContentLength} bytes; the limit is {maxBytes}.")
                .ExecuteAsync(context);
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
            feature.MaxRequestBodySize = maxBytes;
        return next(context);
    }
}
