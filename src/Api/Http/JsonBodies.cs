using System.Collections;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Steller.Api.Http;

/// <summary>
/// How the API reads JSON bodies, and what it says when one cannot be read. Bodies are strict: a key sent twice is refused
/// (duplicate_json_key) rather than "last one wins". Errors name the field and what it must be, in the API's words: never a .NET
/// type name or a framework message.
/// </summary>
public static partial class JsonBodies
{
    public static void Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        options.AllowDuplicateProperties = false;
    }

    /// <summary>A body that could not be read, as (status, code, detail, the bad field or null, what is wrong with it).</summary>
    public sealed record Refusal(int Status, string Code, string Detail, string? Field = null, string? Problem = null);

    /// <summary>Translates a deserialization failure of the body of <paramref name="http"/>'s endpoint.</summary>
    public static async Task<Refusal> Describe(HttpContext http, JsonException error)
    {
        var field = FieldOf(error.Path);
        if (error.InnerException is null && error.Message.StartsWith("Duplicate property", StringComparison.Ordinal))
            return new Refusal(400, "duplicate_json_key",
                $"The body sends '{field ?? "a key"}' more than once; send each key once.", field ?? "body", "sent more than once");
        if (field is not null && error.InnerException is FormatException or InvalidOperationException)
        {
            var expected = ExpectedType(http, error.Path!);
            var problem = WhatIsWrong(await Sent(http, error.Path!), expected);
            return new Refusal(400, "validation_failed", $"{field} {problem}.", field, problem);
        }
        var where = error.LineNumber is { } line ? $" (line {line + 1}, byte {error.BytePositionInLine + 1})" : "";
        return new Refusal(400, "malformed_json", $"The body is not valid JSON{where}.");
    }

    /// <summary>A framework refusal to bind a request (no body, a parameter of the wrong form), in the API's words.</summary>
    public static Refusal Describe(BadHttpRequestException error)
    {
        var parameter = ParameterName().Match(error.Message) is { Success: true } m ? m.Groups["name"].Value : null;
        if (error.Message.Contains("body", StringComparison.OrdinalIgnoreCase))
            return new Refusal(400, "body_required", "This endpoint needs a JSON object as its body (Content-Type: application/json).");
        if (parameter is null) return new Refusal(error.StatusCode, Problems.CodeFor(error.StatusCode), "The request could not be read.");
        var problem = error.Message.Contains("not provided", StringComparison.Ordinal) ? "required" : "has the wrong form";
        return new Refusal(400, "validation_failed", $"{parameter}: {problem}.", parameter, problem);
    }

    [GeneratedRegex("""parameter "(?:[^"]*\s)?(?<name>[A-Za-z_][A-Za-z0-9_]*)"?""")]
    private static partial Regex ParameterName();

    /// <summary>"$.lines[0].quantity" → "lines[0].quantity"; null for the body itself.</summary>
    private static string? FieldOf(string? path) =>
        path is null || path == "$" ? null : path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');

    private static string WhatIsWrong(JsonElement? sent, Type? expected)
    {
        var integral = expected is not null && IntegralRange(expected) is not null;
        return sent switch
        {
            { ValueKind: JsonValueKind.Number } n when integral && n.GetRawText().IndexOfAny(['.', 'e', 'E']) >= 0
                => "must be a whole number",
            { ValueKind: JsonValueKind.Number } when integral => $"is out of range ({IntegralRange(expected!)})",
            { ValueKind: JsonValueKind.String } when expected == typeof(string) => "is not valid text (it contains a lone surrogate)",
            _ => expected is null ? "has the wrong type" : $"must be {Describe(expected)}",
        };
    }

    private static string? IntegralRange(Type type) => type switch
    {
        _ when type == typeof(long) => "a whole number from -9223372036854775808 to 9223372036854775807",
        _ when type == typeof(int) => "a whole number from -2147483648 to 2147483647",
        _ => null,
    };

    private static string Describe(Type type) => type switch
    {
        _ when IntegralRange(type) is { } range => range,
        _ when type == typeof(string) => "text",
        _ when type == typeof(bool) => "true or false",
        _ when type == typeof(decimal) || type == typeof(double) => "a number",
        _ when type == typeof(DateTimeOffset) || type == typeof(DateTime) => "a date and time in ISO 8601, such as 2026-01-31T12:00:00Z",
        _ when typeof(IEnumerable).IsAssignableFrom(type) => "a list",
        _ => "an object",
    };

    /// <summary>The CLR type the endpoint's body expects at <paramref name="path"/>, or null when it cannot be told.</summary>
    private static Type? ExpectedType(HttpContext http, string path)
    {
        // The exception handler has cleared the request's endpoint; its feature keeps the one that failed.
        var endpoint = http.Features.Get<Microsoft.AspNetCore.Diagnostics.IExceptionHandlerFeature>()?.Endpoint ?? http.GetEndpoint();
        var type = endpoint?.Metadata.GetMetadata<Microsoft.AspNetCore.Http.Metadata.IAcceptsMetadata>()?.RequestType;
        foreach (var segment in Segments(path))
        {
            if (type is null) return null;
            type = segment is int
                ? ElementType(type)
                : type.GetProperty((string)segment, System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance
                    | System.Reflection.BindingFlags.IgnoreCase)?.PropertyType;
            if (type is not null) type = Nullable.GetUnderlyingType(type) ?? type;
        }
        return type;
    }

    private static Type? ElementType(Type type) => type.IsArray
        ? type.GetElementType()
        : type.GetInterfaces().Append(type).FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))
            ?.GetGenericArguments()[0];

    /// <summary>The value the client sent at <paramref name="path"/> (the body is buffered for JSON requests), or null.</summary>
    private static async Task<JsonElement?> Sent(HttpContext http, string path)
    {
        var body = http.Request.Body;
        if (!body.CanSeek) return null;
        try
        {
            body.Position = 0;
            using var document = await JsonDocument.ParseAsync(body, cancellationToken: http.RequestAborted);
            var element = document.RootElement;
            foreach (var segment in Segments(path))
            {
                if (segment is int index)
                {
                    if (element.ValueKind != JsonValueKind.Array || index >= element.GetArrayLength()) return null;
                    element = element[index];
                }
                else if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty((string)segment, out element)) return null;
            }
            return element.Clone();
        }
        catch (Exception e) when (e is JsonException or IOException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>"$.lines[0].quantity" → "lines", 0, "quantity".</summary>
    private static IEnumerable<object> Segments(string path)
    {
        foreach (Match m in PathSegment().Matches(path))
            yield return m.Groups["index"].Success ? int.Parse(m.Groups["index"].ValueSpan) : m.Groups["name"].Value;
    }

    [GeneratedRegex(@"\.(?<name>[^.\[]+)|\[(?<index>\d+)\]|\['(?<name>[^']*)'\]")]
    private static partial Regex PathSegment();
}
