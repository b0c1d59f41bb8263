using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Steller.Domain;

namespace Steller.Application.Serialization;

/// <summary>
/// Maps stored event names to CLR types and back, explicitly: every event class carries an
/// <see cref="EventNameAttribute"/>. Old names can be upcast: an upcaster turns a stored ".v1"
/// document into the current ".v2" shape when the event is read.
/// </summary>
public sealed class EventTypeRegistry
{
    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    private readonly JsonSerializerOptions readOptions;

    /// <param name="readOptions">How stored events are read (default <see cref="JsonOptions"/>); writing always uses
    /// <see cref="JsonOptions"/>.</param>
    public EventTypeRegistry(JsonSerializerOptions? readOptions = null) => this.readOptions = readOptions ?? JsonOptions;

    private readonly Dictionary<string, Type> byName = new(StringComparer.Ordinal);
    private readonly Dictionary<Type, string> byType = new();
    private readonly Dictionary<string, (string NewName, Func<JsonObject, JsonObject> Upcast)> upcasters = new(StringComparer.Ordinal);

    public IReadOnlyCollection<string> Names => byName.Keys;

    /// <summary>Every registered name with its CLR type.</summary>
    public IEnumerable<KeyValuePair<string, Type>> Types => byName;

    /// <summary>Every upcast: a stored name and the current name it is read as.</summary>
    public IEnumerable<(string From, string To)> Upcasts => upcasters.Select(u => (u.Key, u.Value.NewName));

    /// <summary>Every event of Steller's domain: the one registry all readers and writers use.</summary>
    public static EventTypeRegistry ForDomain(JsonSerializerOptions? readOptions = null)
    {
        var registry = new EventTypeRegistry(readOptions).AddAssembly(typeof(EventNameAttribute).Assembly);
        foreach (var (from, to) in DomainUpcasts) registry.AddUpcaster(from, to, json => json);
        return registry;
    }

    /// <summary>Older event names of the domain and the current names they are read as.</summary>
    public static IReadOnlyList<(string From, string To)> DomainUpcasts => Steller.Domain.Inventory.StockUpcasters.Renames;

    /// <summary>Registers every class with an <see cref="EventNameAttribute"/> in the given assemblies.</summary>
    public EventTypeRegistry AddAssembly(Assembly assembly)
    {
        foreach (var type in assembly.GetTypes())
            if (type.GetCustomAttribute<EventNameAttribute>() is { } attr) Add(type, attr.Name);
        return this;
    }

    public EventTypeRegistry Add(Type type, string name)
    {
        if (byName.TryGetValue(name, out var existing) && existing != type)
            throw new InvalidOperationException($"Event name '{name}' is used by both {existing.FullName} and {type.FullName}.");
        byName[name] = type;
        byType[type] = name;
        return this;
    }

    /// <summary>
    /// Reads events stored as <paramref name="oldName"/> through <paramref name="upcast"/> as <paramref name="newName"/>.
    /// </summary>
    public EventTypeRegistry AddUpcaster(string oldName, string newName, Func<JsonObject, JsonObject> upcast)
    {
        upcasters[oldName] = (newName, upcast);
        return this;
    }

    public string NameOf(Type type) =>
        byType.TryGetValue(type, out var name) ? name
        : throw new InvalidOperationException($"{type.FullName} has no [EventName] or is not registered.");

    public byte[] Serialize(object @event) => JsonSerializer.SerializeToUtf8Bytes(@event, @event.GetType(), JsonOptions);

    /// <summary>Turns a stored event into its current CLR shape, or null when the name is not known to this build.</summary>
    public object? Deserialize(string name, ReadOnlySpan<byte> data)
    {
        if (upcasters.TryGetValue(name, out _))
        {
            var node = JsonNode.Parse(data)?.AsObject() ?? throw new InvalidDataException($"Event '{name}' has no body.");
            while (upcasters.TryGetValue(name, out var step))
            {
                node = step.Upcast(node);
                name = step.NewName;
            }
            return byName.TryGetValue(name, out var upcastType) ? node.Deserialize(upcastType, readOptions) : null;
        }
        return byName.TryGetValue(name, out var type) ? JsonSerializer.Deserialize(data, type, readOptions) : null;
    }
}
