using System.Collections.Concurrent;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.OpenApi;

namespace Steller.Api.Http;

/// <summary>
/// Names the OpenAPI schemas and remembers which CLR type took which name. By default a schema is named after its type's short
/// name, so two different types called alike (a wallet's and a stock item's TransferBody) would be documented as one.
/// Here the second gets its declaring type as a prefix, and <see cref="Clashes"/> reports the clash so a test fails on it.
/// </summary>
public sealed class SchemaNames
{
    private readonly ConcurrentDictionary<string, Type> owners = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Type[]> clashes = new(StringComparer.Ordinal);

    /// <summary>Names clashing between different types, with the types; empty when every name means one type.</summary>
    public IReadOnlyDictionary<string, Type[]> Clashes => clashes;

    public void Configure(OpenApiOptions options) => options.CreateSchemaReferenceId = Id;

    public string? Id(JsonTypeInfo info)
    {
        var name = OpenApiOptions.CreateDefaultSchemaReferenceId(info);
        if (name is null) return null;
        var type = Nullable.GetUnderlyingType(info.Type) ?? info.Type;
        var owner = owners.GetOrAdd(name, type);
        if (owner == type) return name;
        clashes[name] = [owner, type];
        var qualified = (type.DeclaringType?.Name ?? type.Namespace?.Replace(".", "", StringComparison.Ordinal)) + name;
        return owners.GetOrAdd(qualified, type) == type ? qualified : type.FullName!.Replace(".", "", StringComparison.Ordinal)
            .Replace("+", "", StringComparison.Ordinal);
    }
}
