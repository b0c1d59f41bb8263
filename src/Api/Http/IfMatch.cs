using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Steller.Api.Http;

/// <summary>A malformed If-Match header: 400 invalid_if_match, nothing changes.</summary>
public sealed class InvalidIfMatchException(string message) : Exception(message);

/// <summary>
/// If-Match on a write to one aggregate: the ETag (stream revision) the caller last saw. The command then runs only if the
/// aggregate is still at that revision, else it answers 412 precondition_failed with the current ETag and appends nothing.
/// Without the header (or with "*") nothing is checked.
/// </summary>
public static class IfMatch
{
    public const string Header = "If-Match";

    /// <summary>
    /// The revision the request names, or null when it names none. Throws <see cref="InvalidIfMatchException"/> on a malformed value.
    /// </summary>
    public static long? Of(HttpContext http)
    {
        var values = http.Request.Headers.IfMatch;
        if (values.Count == 0) return null;
        var value = values.ToString().Trim();
        if (value == "*") return null;
        if (value.StartsWith("W/", StringComparison.Ordinal)) value = value[2..];
        if (value.Length >= 3 && value[0] == '"' && value[^1] == '"' && long.TryParse(value.AsSpan(1, value.Length - 2),
                System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var revision))
            return revision;
        throw new InvalidIfMatchException($"If-Match must be one ETag this API returned, such as \"3\" (quotes included), or *; got "
            + $"{Shorten(value)}.");
    }

    private static string Shorten(string value) => value.Length <= 40 ? $"'{value}'" : $"'{value[..40]}...'";

    /// <summary>Marks an endpoint as honouring If-Match: documented in the OpenAPI document with its 412 answer.</summary>
    public static TBuilder AcceptsIfMatch<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new IfMatchMetadata());

    public static void Configure(OpenApiOptions options) => options.AddOperationTransformer((operation, context, _) =>
    {
        if (!context.Description.ActionDescriptor.EndpointMetadata.OfType<IfMatchMetadata>().Any()) return Task.CompletedTask;
        operation.Parameters ??= [];
        operation.Parameters.Add(new OpenApiParameter
        {
            Name = Header,
            In = ParameterLocation.Header,
            Required = false,
            Description =
                "The ETag (stream revision) last read, e.g. \"3\". The command runs only if the resource is still at that revision; "
                          + "otherwise 412 precondition_failed with the current ETag, and nothing changes.",
            Schema = new OpenApiSchema { Type = JsonSchemaType.String },
        });
        operation.Responses ??= new OpenApiResponses();
        operation.Responses.TryAdd("412", new OpenApiResponse { Description =
            "Problem precondition_failed: If-Match names another revision; the ETag header is the current one." });
        return Task.CompletedTask;
    });

    private sealed class IfMatchMetadata;
}
