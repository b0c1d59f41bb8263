using System.Text.Json;
using System.Text.Json.Serialization;

namespace Steller.Application.EventStore;

/// <summary>The one JSON shape of event metadata, shared by every adapter so stores hold identical metadata.</summary>
public static class EventMetadataJson
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public static byte[] Serialize(EventMetadata metadata) => JsonSerializer.SerializeToUtf8Bytes(metadata, Options);

    public static EventMetadata Deserialize(ReadOnlySpan<byte> json) =>
        JsonSerializer.Deserialize<EventMetadata>(json, Options)
        ?? throw new InvalidDataException("Event metadata is null.");
}
