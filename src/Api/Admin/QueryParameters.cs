using Steller.Application.Time;
using System.Globalization;
using Steller.Api.Http;

namespace Steller.Api.Admin;

/// <summary>Parses query parameters by hand so bad input answers 400 with a code naming the parameter, never a 500.</summary>
public static class QueryParameters
{
    public static bool TryInstant(string? text, string name, out DateTimeOffset? value, out IResult? problem)
    {
        problem = null;
        if (Instants.TryParse(text, out value)) return true;
        problem = Problems.Result(400, "invalid_query", $"'{name}' must be an ISO 8601 instant such as 2026-01-31T00:00:00Z.",
            new Dictionary<string, object?> { ["parameter"] = name });
        return false;
    }

    /// <summary>from (inclusive) and to (exclusive) instants; from must come before to.</summary>
    public static bool TryRange(string? from, string? to, out DateTimeOffset? fromAt, out DateTimeOffset? toAt, out IResult? problem)
    {
        toAt = null;
        if (!TryInstant(from, "from", out fromAt, out problem) || !TryInstant(to, "to", out toAt, out problem)) return false;
        if (fromAt is { } f && toAt is { } t && f >= t)
        {
            problem = Problems.Result(400, "invalid_query", "'from' must be before 'to' (from is inclusive, to exclusive).",
                new Dictionary<string, object?> { ["parameter"] = "from" });
            return false;
        }
        return true;
    }

    public static bool TryLimit(string? text, int fallback, int max, out int value, out IResult? problem)
    {
        value = fallback;
        problem = null;
        if (string.IsNullOrEmpty(text)) return true;
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value >= 1 && value <= max) return true;
        problem = Problems.Result(400, "invalid_query", $"'limit' must be a whole number from 1 to {max}.",
            new Dictionary<string, object?> { ["parameter"] = "limit" });
        return false;
    }

    public static IResult InvalidCursor() => Problems.Result(400, "invalid_cursor", "'after' is not a cursor this endpoint returned.",
        new Dictionary<string, object?> { ["parameter"] = "after" });
}
