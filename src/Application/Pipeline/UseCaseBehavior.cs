using System.Diagnostics;
using MediatR;
using Microsoft.Extensions.Logging;
using Prometheus;
using Steller.Domain;

namespace Steller.Application.Pipeline;

/// <summary>A use case's answer that may be a domain refusal: the metrics and the log name its code.</summary>
public interface IRefusable
{
    DomainError? Error { get; }
}

/// <summary>
/// Times, counts and logs every use case by its request type: <c>steller_use_case_seconds{use_case, outcome}</c> with
/// outcome "ok", the refusal's code, "invalid" or "error". Log lines carry the correlation id from the ambient scope.
/// </summary>
public sealed class UseCaseBehavior<TRequest, TResponse>(ILogger<UseCaseBehavior<TRequest, TResponse>> logger)
    : IPipelineBehavior<TRequest, TResponse>
{
    private static readonly string UseCase = UseCaseNames.Of(typeof(TRequest));

    public async Task<TResponse> Handle(TRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<TResponse> next)
    {
        var started = Stopwatch.GetTimestamp();
        var outcome = "error";
        try
        {
            var response = await next();
            outcome = response is IRefusable { Error: { } error } ? error.Code : "ok";
            return response;
        }
        catch (ValidationFailedException)
        {
            outcome = "invalid";
            throw;
        }
        finally
        {
            var elapsed = Stopwatch.GetElapsedTime(started);
            UseCaseMetrics.Seconds.WithLabels(UseCase, outcome).Observe(elapsed.TotalSeconds);
            if (outcome == "error") logger.LogWarning("{UseCase} failed after {Milliseconds:F1} ms", UseCase, elapsed.TotalMilliseconds);
            else logger.LogDebug("{UseCase}: {Outcome} in {Milliseconds:F1} ms", UseCase, outcome, elapsed.TotalMilliseconds);
        }
    }
}

public static class UseCaseMetrics
{
    public static readonly Histogram Seconds = Metrics.CreateHistogram("steller_use_case_seconds",
        "Time to handle a use case (a MediatR request), by use case and outcome (ok, a refusal's code, invalid, error).",
        new HistogramConfiguration { LabelNames = ["use_case", "outcome"], Buckets = Histogram.ExponentialBuckets(0.0005, 2, 16) });
}

public static class UseCaseNames
{
    /// <summary>"PlaceHold" for PlaceHoldCommand / PlaceHold; the request type's name without a Command or Query suffix.</summary>
    public static string Of(Type requestType)
    {
        var name = requestType.Name;
        foreach (var suffix in new[] { "Command", "Query", "Request" })
            if (name.EndsWith(suffix, StringComparison.Ordinal) && name.Length > suffix.Length) return name[..^suffix.Length];
        return name;
    }
}
