using Microsoft.AspNetCore.Http.Features;

namespace Steller.Api.Http;

/// <summary>
/// Enforces Http:MaxRequestBodyBytes with a clean 413 problem. Closing a connection with unread request bytes
/// makes TCP reset it, which can destroy the 413 before the client reads it. So an oversized body is drained
/// (up to <see cref="DrainCap"/>) before answering; a body without a length (chunked) is buffered up to the limit.
/// Beyond the cap the server's own limit applies and the connection is closed: that is abuse, not a mistake.
/// </summary>
public sealed class BodyLimit(RequestDelegate next, int maxBytes)
{
    public const long DrainCap = 16 * 1024 * 1024;

    public async Task Invoke(HttpContext context)
    {
        var request = context.Request;
        var sizeFeature = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        var length = request.ContentLength;

        if (length > maxBytes)
        {
            if (length <= DrainCap && sizeFeature is { IsReadOnly: false })
            {
                sizeFeature.MaxRequestBodySize = DrainCap;
                await request.Body.CopyToAsync(Stream.Null, context.RequestAborted);
            }
            await TooLarge(context, $"The request body is {length} bytes; the limit is {maxBytes}.");
            return;
        }

        var chunked = length is null && (request.Headers.TransferEncoding.Count > 0 || request.ContentType is not null);
        if (!chunked || sizeFeature is not { IsReadOnly: false })
        {
            if (sizeFeature is { IsReadOnly: false }) sizeFeature.MaxRequestBodySize = maxBytes;
            // A JSON body can be read again, so a refusal can say what the client sent at the bad field (JsonBodies).
            if (request.HasJsonContentType()) request.EnableBuffering();
            await next(context);
            return;
        }

        // No length given: read up to the limit into memory, and drain whatever is over it.
        sizeFeature.MaxRequestBodySize = DrainCap;
        var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        long total = 0;
        int read;
        while ((read = await request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
        {
            total += read;
            if (total <= maxBytes) buffer.Write(chunk, 0, read);
        }
        if (total > maxBytes)
        {
            await TooLarge(context, $"The request body is {total} bytes; the limit is {maxBytes}.");
            return;
        }
        buffer.Position = 0;
        request.Body = buffer;
        request.ContentLength = total;
        await next(context);
    }

    private static Task TooLarge(HttpContext context, string detail) =>
        Problems.Result(413, "body_too_large", detail).ExecuteAsync(context);
}
