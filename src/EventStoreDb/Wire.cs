using System.Buffers.Binary;
using System.Text;
using Google.Protobuf;
using Steller.Application.EventStore;
using Steller.Infrastructure.EventStoreDb.Protocol;

namespace Steller.Infrastructure.EventStoreDb;

/// <summary>Conversions between the port's types and the wire messages.</summary>
internal static class Wire
{
    public const string TypeKey = "type";
    public const string ContentTypeKey = "content-type";
    public const string JsonContentType = "application/json";
    public static readonly Empty Empty = new();

    /// <summary>The "structured" UUID form: RFC (big-endian) bytes 0–7 and 8–15, each a big-endian int64.</summary>
    public static UUID ToUuid(Guid id)
    {
        Span<byte> bytes = stackalloc byte[16];
        id.TryWriteBytes(bytes, bigEndian: true, out _);
        return new UUID
        {
            Structured = new UUID.Types.Structured
            {
                MostSignificantBits = BinaryPrimitives.ReadInt64BigEndian(bytes),
                LeastSignificantBits = BinaryPrimitives.ReadInt64BigEndian(bytes[8..]),
            },
        };
    }

    public static Guid ToGuid(UUID? uuid)
    {
        switch (uuid?.ValueCase)
        {
            case UUID.ValueOneofCase.Structured:
                Span<byte> bytes = stackalloc byte[16];
                BinaryPrimitives.WriteInt64BigEndian(bytes, uuid.Structured.MostSignificantBits);
                BinaryPrimitives.WriteInt64BigEndian(bytes[8..], uuid.Structured.LeastSignificantBits);
                return new Guid(bytes, bigEndian: true);
            case UUID.ValueOneofCase.String:
                return Guid.Parse(uuid.String);
            default:
                return Guid.Empty;
        }
    }

    public static StreamIdentifier Stream(string name) => new() { StreamName = ByteString.CopyFromUtf8(name) };

    /// <summary>How EventStoreDB counts an event against its maximum append size.</summary>
    public static long SizeOnDisk(AppendReq.Types.ProposedMessage m) =>
        m.Data.Length + m.CustomMetadata.Length + 2L * m.Metadata[TypeKey].Length;

    public static AppendReq.Types.ProposedMessage Proposed(EventData e) => new()
    {
        Id = ToUuid(e.EventId),
        Metadata = { [TypeKey] = e.Type, [ContentTypeKey] = JsonContentType },
        CustomMetadata = ByteString.CopyFrom(EventMetadataJson.Serialize(e.Metadata)),
        Data = ByteString.CopyFrom(e.Data.Span),
    };

    /// <summary>The same event as a BatchAppend message (the byte strings and id are shared, not copied).</summary>
    public static BatchAppendReq.Types.ProposedMessage ToBatch(AppendReq.Types.ProposedMessage m) => new()
    {
        Id = m.Id,
        Metadata = { m.Metadata },
        CustomMetadata = m.CustomMetadata,
        Data = m.Data,
    };

    /// <summary>The event, or an <see cref="InvalidDataException"/> naming it when it has no Steller metadata.</summary>
    public static RecordedEvent ToRecordedEvent(ReadResp.Types.ReadEvent.Types.RecordedEvent r) =>
        TryToRecordedEvent(r) ?? throw new InvalidDataException(
            $"Event {r.StreamIdentifier?.StreamName.ToStringUtf8()}@{r.StreamRevision} ({r.Metadata.GetValueOrDefault(TypeKey)}) has no Steller "
                + "metadata; it was not written by Steller.");

    /// <summary>The event, or null when it has no Steller metadata (another application wrote it).</summary>
    public static RecordedEvent? TryToRecordedEvent(ReadResp.Types.ReadEvent.Types.RecordedEvent r)
    {
        EventMetadata metadata;
        try { metadata = EventMetadataJson.Deserialize(r.CustomMetadata.Span); }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidDataException) { return null; }
        // Another application's JSON metadata parses too, into empty fields.
        if (metadata is not { CorrelationId: not null, CausationId: not null, Actor: not null } || metadata.RecordedAt == default) return null;
        r.Metadata.TryGetValue(TypeKey, out var type);
        return new RecordedEvent(
            StreamId: r.StreamIdentifier?.StreamName.ToStringUtf8() ?? "",
            Revision: new StreamRevision(checked((long)r.StreamRevision)),
            Position: new LogPosition(r.CommitPosition, r.PreparePosition),
            EventId: ToGuid(r.Id),
            Type: type ?? "",
            Data: r.Data.Memory,
            Metadata: metadata);
    }

    public static string Describe(ByteString streamName) => Encoding.UTF8.GetString(streamName.Span);
}
