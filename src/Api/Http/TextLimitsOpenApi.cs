using System.Collections;
using System.Reflection;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Steller.Application.Pipeline;
using Steller.Domain;

namespace Steller.Api.Http;

/// <summary>
/// States <see cref="Text"/>'s rule in the OpenAPI document: every string the API accepts (route and query parameters, every
/// string property of a request body, and the items of string lists) gets the maxLength and pattern that
/// <see cref="TextInput"/> enforces, from the same table; every amount and quantity gets the domain's bound as minimum and maximum.
/// </summary>
public static class TextLimitsOpenApi
{
    public static void Configure(OpenApiOptions options) => options.AddSchemaTransformer((schema, context, _) =>
    {
        var field = context.JsonPropertyInfo is { } property
            ? RequestTypes(context.ApplicationServices).Contains(property.DeclaringType) ? property.Name : null
            : context.ParameterDescription is { Source.Id: "Path" or "Query" } parameter ? parameter.Name : null;
        if (field is null) return Task.CompletedTask;
        if (IsInteger(schema)) { Bound(schema, field); return Task.CompletedTask; }
        if (IsText(schema)) State(schema, field);
        else if (schema.Type?.HasFlag(JsonSchemaType.Array) == true && schema.Items is OpenApiSchema items && IsText(items))
            State(items, field);
        return Task.CompletedTask;
    });

    private static bool IsInteger(OpenApiSchema schema) => schema.Type?.HasFlag(JsonSchemaType.Integer) == true;

    /// <summary>
    /// The domain's bounds (<see cref="Money.MaxMinorUnits"/>, <see cref="Quantity.Max"/>) on the numbers a body carries: an amount
    /// or quantity past them is refused with 422 amount_out_of_range / quantity_out_of_range. The sign rules (a deposit is
    /// positive, an adjustment may be negative) are the use case's and are stated in its description.
    /// </summary>
    private static void Bound(OpenApiSchema schema, string field)
    {
        var name = field.ToLowerInvariant();
        long? max = name.Contains("quantity") || name.Contains("threshold") ? Quantity.Max
            : name.Contains("amount") || name.Contains("facevalue") || name.EndsWith("limit", StringComparison.Ordinal) || name.Contains("cost") ? Money.MaxMinorUnits
            : name.Contains("basispoints") ? 10_000 : null;
        if (max is not { } bound) return;
        schema.Maximum = bound.ToString(System.Globalization.CultureInfo.InvariantCulture);
        schema.Minimum = (-bound).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    private static bool IsText(OpenApiSchema schema) => schema.Type?.HasFlag(JsonSchemaType.String) == true && schema.Format is null;

    private static void State(OpenApiSchema schema, string field)
    {
        var rule = Text.For(field);
        schema.MaxLength = rule.MaxLength;
        schema.Pattern = Text.Pattern(rule.Kind);
    }

    /// <summary>Per host (its endpoint data source): two hosts in one process (tests) may map different endpoints.</summary>
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<EndpointDataSource, HashSet<Type>> requestTypes = new();

    /// <summary>The types endpoints accept as bodies, and every type nested in them (lines, legs, recipients).</summary>
    private static HashSet<Type> RequestTypes(IServiceProvider services) =>
        requestTypes.GetValue(services.GetRequiredService<EndpointDataSource>(), endpoints =>
        {
            var found = new HashSet<Type>();
            var bodies = endpoints.Endpoints
                .Select(e => e.Metadata.GetMetadata<Microsoft.AspNetCore.Http.Metadata.IAcceptsMetadata>()?.RequestType)
                .OfType<Type>();
            foreach (var body in bodies) Collect(body, found);
            return found;
        });

    private static void Collect(Type type, HashSet<Type> found)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type == typeof(string) || type.IsPrimitive || type.Namespace?.StartsWith("Steller", StringComparison.Ordinal) != true
            && !typeof(IEnumerable).IsAssignableFrom(type)) return;
        if (typeof(IEnumerable).IsAssignableFrom(type))
        {
            foreach (var argument in type.IsArray ? [type.GetElementType()!] : type.GetGenericArguments()) Collect(argument, found);
            return;
        }
        if (!found.Add(type)) return;
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance)) Collect(property.PropertyType, found);
    }
}
