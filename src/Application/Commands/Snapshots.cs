using System.IO.Compression;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Steller.Application.Serialization;

namespace Steller.Application.Commands;

/// <summary>
/// An aggregate's state as it was right after the event <see cref="EventId"/> at <see cref="Revision"/> of its stream,
/// serialized under <see cref="Tag"/> (<see cref="SnapshotFormat{TState}"/>). A cache of the fold, never a source of truth:
/// a snapshot whose tag, bytes or anchor event do not match is ignored and the stream is folded from its start.
/// </summary>
public sealed record Snapshot(string StreamId, long Revision, Guid EventId, string Tag, byte[] State);

/// <summary>Where snapshots are kept (PostgreSQL, whichever store holds the events). One, the newest, per stream.</summary>
public interface ISnapshotStore
{
    /// <summary>The stream's snapshot, or null when it has none.</summary>
    Task<Snapshot?> Read(string streamId, CancellationToken ct = default);

    /// <summary>
    /// Keeps <paramref name="snapshot"/> when it is newer than the stream's stored one or has another tag; with
    /// <paramref name="replace"/>, in any case (the stored one was found unusable).
    /// </summary>
    Task Write(Snapshot snapshot, bool replace = false, CancellationToken ct = default);
}

/// <param name="EveryEvents">
/// A snapshot is written (off the command path) each time a stream's event count passes a multiple of this, and after a
/// load that had to fold at least this many events. 0: no snapshots are read or written.
/// </param>
public sealed record SnapshotSettings(int EveryEvents = 1_000)
{
    public bool Enabled => EveryEvents > 0;
}

/// <summary>
/// How one aggregate's state is stored in a snapshot: System.Text.Json of the state, gzip-compressed, under a tag that changes whenever what
/// the snapshot means could change. The tag is a hash over the aggregate's name, its explicit snapshot version (bumped by
/// hand when the fold changes: a test pins the fold of a reference history to it), the public shape of the state type
/// (property names and types, recursively; enum members and values) and the aggregate's event schema (every event name the
/// registry reads into the aggregate's event types, with their shapes, and the upcasts to them).
/// </summary>
public sealed class SnapshotFormat<TState>
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.General)
    {
        // Computed properties (Available, IsOpen, ...) are not state: the fold's own fields are.
        IgnoreReadOnlyProperties = true,
    };

    public SnapshotFormat(string aggregate, int version, Type eventType, EventTypeRegistry registry) =>
        Tag = TagFor(aggregate, version, typeof(TState), eventType, registry);

    public string Tag { get; }

    /// <summary>The state as gzip-compressed JSON (a long wallet's state compresses about tenfold: less to write and read).</summary>
    public byte[] Serialize(TState state)
    {
        using var buffer = new MemoryStream();
        using (var zip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
            JsonSerializer.Serialize(zip, state, Options);
        return buffer.ToArray();
    }

    /// <summary>The state, or an exception when the bytes are not a whole state of this shape.</summary>
    public TState Deserialize(byte[] bytes)
    {
        using var zip = new GZipStream(new MemoryStream(bytes, writable: false), CompressionMode.Decompress);
        return JsonSerializer.Deserialize<TState>(zip, Options) ?? throw new InvalidDataException("The snapshot holds null.");
    }

    public static string TagFor(string aggregate, int version, Type stateType, Type eventType, EventTypeRegistry registry)
    {
        var text = new StringBuilder();
        text.Append("json-gzip1|").Append(aggregate).Append("|v").Append(version).Append("|state ");
        Describe(stateType, text, []);
        var events = registry.Types.Where(t => eventType.IsAssignableFrom(t.Value)).OrderBy(t => t.Key, StringComparer.Ordinal).ToList();
        foreach (var (name, type) in events)
        {
            text.Append("|event ").Append(name).Append(' ');
            Describe(type, text, []);
        }
        var names = events.Select(e => e.Key).ToHashSet(StringComparer.Ordinal);
        foreach (var (from, to) in registry.Upcasts.Where(u => names.Contains(u.To)).OrderBy(u => u.From, StringComparer.Ordinal))
            text.Append("|upcast ").Append(from).Append("->").Append(to);
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString()));
        return $"{aggregate}.v{version}.{Convert.ToHexStringLower(hash.AsSpan(0, 12))}";
    }

    /// <summary>A type's public shape as text: what a serialized value of it depends on.</summary>
    private static void Describe(Type type, StringBuilder text, HashSet<Type> seen)
    {
        if (type.IsEnum)
        {
            text.Append("enum ").Append(type.FullName).Append(':').Append(Enum.GetUnderlyingType(type).Name).Append('{');
            foreach (var name in Enum.GetNames(type))
                text.Append(name).Append('=').Append(Convert.ToInt64(Enum.Parse(type, name))).Append(',');
            text.Append('}');
            return;
        }
        if (type.IsArray)
        {
            Describe(type.GetElementType()!, text, seen);
            text.Append("[]");
            return;
        }
        if (type.IsGenericType)
        {
            var definition = type.GetGenericTypeDefinition();
            text.Append(definition.FullName).Append('<');
            foreach (var argument in type.GetGenericArguments())
            {
                Describe(argument, text, seen);
                text.Append(',');
            }
            text.Append('>');
            if (IsFramework(definition)) return;
        }
        else if (type.IsPrimitive || IsFramework(type))
        {
            text.Append(type.FullName);
            return;
        }
        if (!seen.Add(type))
        {
            text.Append("ref ").Append(type.FullName);
            return;
        }
        text.Append(type.FullName).Append('{');
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).OrderBy(p => p.Name, StringComparer.Ordinal))
        {
            text.Append(property.Name).Append(property.CanWrite ? "=" : ":");
            Describe(property.PropertyType, text, seen);
            text.Append(';');
        }
        text.Append('}');
    }

    private static bool IsFramework(Type type) => type.Namespace is { } ns && (ns == "System" || ns.StartsWith("System.", StringComparison.Ordinal));
}
