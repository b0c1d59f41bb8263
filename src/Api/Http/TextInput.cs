using System.Collections;
using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Json;
using Steller.Application.Pipeline;

namespace Steller.Api.Http;

/// <summary>
/// The edge's text check, on every endpoint: each string the endpoint binds (route and query parameters, every string in the
/// JSON body, nested and in lists) must pass <see cref="Text"/>'s rule for its field, else 400 validation_failed naming each
/// field ("reference", "lines[0].sku", "cidrs[1]") and the use case never runs. So no NUL, control character, lone surrogate,
/// over-long text or (in identifiers) bidi override reaches an event.
/// </summary>
public static class TextInput
{
    private const int MaxDepth = 6;
    private static readonly ConcurrentDictionary<Type, PropertyInfo[]> Properties = new();

    /// <summary>Mapped endpoints get this with <c>AddEndpointFilterFactory</c> (Program maps every module inside such a group).</summary>
    public static EndpointFilterDelegate Check(EndpointFilterFactoryContext context, EndpointFilterDelegate next)
    {
        var inputs = context.MethodInfo.GetParameters()
            .Select((parameter, index) => (parameter, index))
            .Where(p => IsInput(p.parameter.ParameterType))
            .Select(p => (Index: p.index, Field: p.parameter.ParameterType == typeof(string) ? p.parameter.Name ?? "" : ""))
            .ToArray();
        if (inputs.Length == 0) return next;
        return invocation =>
        {
            var errors = new FieldErrors();
            foreach (var (index, field) in inputs) Walk(invocation.Arguments[index], field, errors, 0);
            return errors.Any ? ValueTask.FromResult<object?>(errors.Problem()) : next(invocation);
        };
    }

    /// <summary>A string parameter, or a body: a record (not a service, not bound by BindAsync such as the authenticated partner).</summary>
    private static bool IsInput(Type type) =>
        type == typeof(string) || (IsRecord(type) && type.GetMethod("BindAsync", BindingFlags.Public | BindingFlags.Static) is null);

    private static bool IsRecord(Type type) =>
        type is { IsClass: true, IsAbstract: false } && type.GetMethod("<Clone>$", BindingFlags.Public | BindingFlags.Instance) is not null;

    private static void Walk(object? value, string field, FieldErrors errors, int depth)
    {
        switch (value)
        {
            case null:
                return;
            case string text:
                errors.Text(text, field);
                return;
            case IEnumerable items when depth < MaxDepth:
                var i = 0;
                foreach (var item in items) Walk(item, $"{field}[{i++}]", errors, depth + 1);
                return;
            default:
                if (depth >= MaxDepth || !IsRecord(value.GetType())) return;
                foreach (var property in Properties.GetOrAdd(value.GetType(), ReadableProperties))
                {
                    var name = JsonNamingPolicy.CamelCase.ConvertName(property.Name);
                    Walk(property.GetValue(value), field.Length == 0 ? name : $"{field}.{name}", errors, depth + 1);
                }
                return;
        }
    }

    private static PropertyInfo[] ReadableProperties(Type type) => type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p.CanRead && p.GetIndexParameters().Length == 0 && p.Name != "EqualityContract").ToArray();
}
