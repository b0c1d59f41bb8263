namespace Steller.Application.EventStore;

/// <summary>
/// Checks every adapter runs before touching the wire, so both stores refuse the same bad input the same way
/// (EventStoreDB fails silently on several of these; see shared/design/EVENTSTOREDB.md).
/// </summary>
public static class AppendRules
{
    public const int MaxStreamIdLength = 512;

    public static void Check(string streamId, IReadOnlyList<EventData> events)
    {
        CheckStreamId(streamId);
        ArgumentNullException.ThrowIfNull(events);
        var seen = new HashSet<Guid>();
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i] ?? throw new InvalidAppendException($"Event #{i} is null.");
            if (e.EventId == Guid.Empty) throw new InvalidAppendException($"Event #{i} has no event id.");
            if (!seen.Add(e.EventId)) throw new InvalidAppendException($"Event id {e.EventId} appears twice in one append.");
            if (string.IsNullOrWhiteSpace(e.Type)) throw new InvalidAppendException($"Event #{i} has no type.");
            if (e.Type.StartsWith('$'))
                throw new InvalidAppendException($"Event #{i}: types starting with '$' are reserved for the store.");
            if (e.Metadata is null) throw new InvalidAppendException($"Event #{i} has no metadata.");
            if (!IsJson(e.Data.Span)) throw new InvalidAppendException($"Event #{i} ({e.Type}) data is not valid UTF-8 JSON.");
        }
    }

    private static bool IsJson(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty) return false;
        try
        {
            var reader = new System.Text.Json.Utf8JsonReader(data);
            while (reader.Read()) { }
            return true;
        }
        catch (System.Text.Json.JsonException) { return false; }
    }

    public static void CheckStreamId(string streamId)
    {
        if (string.IsNullOrWhiteSpace(streamId)) throw new InvalidAppendException("The stream id is empty.");
        if (streamId.StartsWith('$'))
            throw new InvalidAppendException($"Stream id '{streamId}' is reserved: names starting with '$' (such as $all) belong to "
                + $"the store.");
        if (streamId.Length > MaxStreamIdLength)
            throw new InvalidAppendException($"Stream id is longer than {MaxStreamIdLength} characters.");
    }
}
