using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Steller.Application.EventStore;
using Steller.Application.Pipeline;

namespace Steller.Api.Http;

/// <summary>
/// RFC 9457 problem details for every error, each with a stable machine-readable "code" and the correlation id.
/// Bad input is always a 4xx naming the problem; only a fault of ours is a 500, and it says nothing internal.
/// </summary>
public static class Problems
{
    public static string CodeFor(int status) => status switch
    {
        400 => "bad_request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        406 => "not_acceptable",
        409 => "conflict",
        411 => "length_required",
        413 => "body_too_large",
        415 => "unsupported_media_type",
        422 => "validation_failed",
        429 => "too_many_requests",
        503 => "unavailable",
        >= 500 => "internal_error",
        _ => "error",
    };

    /// <summary>HttpContext.Items key of the code of the problem a request was answered with.</summary>
    public const string ProblemCodeItem = "steller.problem-code";

    public static IServiceCollection AddStellerProblemDetails(this IServiceCollection services)
    {
        services.AddProblemDetails(o => o.CustomizeProblemDetails = ctx =>
        {
            var p = ctx.ProblemDetails;
            var status = p.Status ?? ctx.HttpContext.Response.StatusCode;
            p.Extensions.TryAdd("code", CodeFor(status));
            ctx.HttpContext.Items[ProblemCodeItem] = p.Extensions["code"] as string; // the partner request log records it
            p.Extensions["correlationId"] = Correlation.Of(ctx.HttpContext);
            p.Instance ??= ctx.HttpContext.Request.Path;
            if (status == 404 && p.Detail is null)
                p.Detail = $"No resource at {ctx.HttpContext.Request.Method} {ctx.HttpContext.Request.Path}.";
            if (status == 405 && p.Detail is null)
                p.Detail = $"{ctx.HttpContext.Request.Method} is not allowed on {ctx.HttpContext.Request.Path}.";
            if (status == 415 && p.Detail is null) p.Detail = "Send the body as application/json.";
            p.Extensions.Remove("traceId");
        });
        services.AddExceptionHandler<ExceptionToProblem>();
        return services;
    }

    /// <summary>A problem result with a stable code, for endpoints.</summary>
    public static IResult Result(int status, string code, string detail, IDictionary<string, object?>? extensions = null)
    {
        var ext = new Dictionary<string, object?> { ["code"] = code };
        if (extensions is not null) foreach (var (k, v) in extensions) ext[k] = v;
        return Results.Problem(detail: detail, statusCode: status, title: Title(status), extensions: ext);
    }

    /// <summary>400 validation_failed naming every bad field under "errors".</summary>
    public static IResult Problem(this FieldErrors errors) => Result(400, "validation_failed",
        $"{errors.Fields.Count} field(s) are invalid: {string.Join(", ", errors.Fields)}.", ErrorsExtension(errors));

    private static Dictionary<string, object?> ErrorsExtension(FieldErrors errors) =>
        new() { ["errors"] = errors.ByField.ToDictionary(e => e.Key, e => (object?)e.Value) };

    private static string Title(int status) => status switch
    {
        400 => "Bad request",
        404 => "Not found",
        409 => "Conflict",
        413 => "Request body too large",
        415 => "Unsupported media type",
        412 => "Precondition failed",
        422 => "Request refused by the rules",
        _ => status >= 500 ? "Internal error" : "Request refused",
    };

    private sealed class ExceptionToProblem(IProblemDetailsService problems, ILogger<ExceptionToProblem> logger) : IExceptionHandler
    {
        public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken ct)
        {
            JsonBodies.Refusal? refusal = exception switch
            {
                BadHttpRequestException { InnerException: JsonException j } => await JsonBodies.Describe(context, j),
                BadHttpRequestException { StatusCode: 400 } b => JsonBodies.Describe(b),
                _ => null,
            };
            var (status, code, detail) = exception switch
            {
                _ when refusal is not null => (refusal.Status, refusal.Code, refusal.Detail),
                BadHttpRequestException { StatusCode: 413 }
                    => (413, "body_too_large", "The request body is larger than this endpoint accepts."),
                BadHttpRequestException { StatusCode: 415 } => (415, "unsupported_media_type", "Send the body as application/json."),
                BadHttpRequestException b => (b.StatusCode, CodeFor(b.StatusCode), "The request could not be read."),
                InvalidAppendException a => (400, "invalid_append", a.Message),
                ValidationFailedException v => (400, "validation_failed", v.Message),
                InvalidIfMatchException m => (400, "invalid_if_match", m.Message),
                // Every query over a read model: on a fresh database its projection may not have created it yet.
                Steller.Projections.Wallets.ReadModelNotReadyException r => (503, "read_model_unavailable", r.Message),
                // A lost or refused database connection (a failover, a terminated session, a restart): nothing the request
                // did is known to be lost or done, and the same request may simply be sent again (commands are idempotent).
                _ when DatabaseUnavailable(exception) => (503, "database_unavailable",
                    "The database could not be reached; send the same request again in a moment."),
                _ => (500, "internal_error", "Something went wrong on our side. Quote the correlation id when you report it."),
            };
            if (status == 500) logger.LogError(exception, "Unhandled error on {Method} {Path}", context.Request.Method,
                context.Request.Path);
            else logger.LogInformation("Refused {Method} {Path}: {Code}", context.Request.Method, context.Request.Path, code);

            context.Response.StatusCode = status;
            var problem = new ProblemDetails { Status = status, Title = Title(status), Detail = detail, Extensions = { ["code"] = code } };
            if (exception is ValidationFailedException invalid)
                foreach (var (k, v) in ErrorsExtension(invalid.Errors)) problem.Extensions[k] = v;
            if (refusal is { Field: { } field, Problem: { } what })
                problem.Extensions["errors"] = new Dictionary<string, object?> { [field] = new[] { what } };
            if (status == 503) problem.Extensions["retryAfterSeconds"] = 1; // a read model still being built, a lost connection: try again in a moment
            return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, Exception = exception,
                ProblemDetails = problem });
        }
    }

    /// <summary>A transient database failure anywhere in the exception's chain (Npgsql says whether it is worth repeating).</summary>
    private static bool DatabaseUnavailable(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
            if (e is Npgsql.NpgsqlException { IsTransient: true }) return true;
        return false;
    }
}
