using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Steller.Application.EventStore;

namespace Steller.Projections.Chain;

/// <summary>
/// One event of the global log as the hash chain sees it: the fields that make up its canonical bytes, taken as the store
/// holds them (data and metadata are the stored UTF-8 JSON, byte for byte).
/// </summary>
public sealed record ChainEntry(
    LogPosition Position,
    string StreamId,
    long Revision,
    Guid EventId,
    string Type,
    ReadOnlyMemory<byte> Data,
    ReadOnlyMemory<byte> Metadata,
    long RecordedAtMicros)
{
    private static readonly long EpochTicks = DateTime.UnixEpoch.Ticks;

    /// <summary>Microseconds since 1970-01-01T00:00:00Z, truncated (PostgreSQL keeps timestamps to the microsecond).</summary>
    public static long Micros(DateTimeOffset at) => (at.UtcTicks - EpochTicks) / 10;

    /// <summary>The instant of <see cref="RecordedAtMicros"/>.</summary>
    public DateTimeOffset RecordedAt => new(EpochTicks + RecordedAtMicros * 10, TimeSpan.Zero);

    /// <summary>An event read through <see cref="IEventStore.ReadAll"/> (any backend): metadata in its one JSON shape.</summary>
    public static ChainEntry Of(RecordedEvent e) => new(e.Position, e.StreamId, e.Revision.Value, e.EventId, e.Type, e.Data,
        EventMetadataJson.Serialize(e.Metadata), Micros(e.Metadata.RecordedAt));
}

/// <summary>
/// The hash chain over the global log: <c>hash(n) = SHA-256(hash(n-1) || canonical(event n))</c>, <c>hash(0)</c> = 32 zero bytes.
/// The canonical bytes of an event (every integer big-endian, every text UTF-8):
/// <code>
///   u32 len(type)     type
///   u32 len(stream)   stream id
///   i64               revision in its stream
///   16 bytes          event id (RFC 4122 byte order)
///   u32 len(data)     data (the stored JSON bytes)
///   u32 len(metadata) metadata (the stored JSON bytes)
///   i64               recorded at, microseconds since 1970-01-01T00:00:00Z
/// </code>
/// Documented in docs/ledger-verification.md; changing it breaks every chain already sealed.
/// </summary>
public sealed class ChainHasher
{
    public const int HashSize = 32;
    public static readonly byte[] Genesis = new byte[HashSize];

    private byte[] buffer = new byte[64 * 1024];

    /// <summary>The hash after <paramref name="previous"/> for <paramref name="entry"/>, written to <paramref name="into"/>.</summary>
    public void Next(ReadOnlySpan<byte> previous, ChainEntry entry, Span<byte> into)
    {
        var type = entry.Type;
        var stream = entry.StreamId;
        var size = HashSize + 4 + Encoding.UTF8.GetMaxByteCount(type.Length) + 4 + Encoding.UTF8.GetMaxByteCount(stream.Length) + 8 + 16
                   + 4 + entry.Data.Length + 4 + entry.Metadata.Length + 8;
        if (buffer.Length < size) buffer = new byte[Math.Max(size, buffer.Length * 2)];
        var b = buffer.AsSpan();
        previous.CopyTo(b);
        var at = HashSize;
        at = Text(b, at, type);
        at = Text(b, at, stream);
        BinaryPrimitives.WriteInt64BigEndian(b[at..], entry.Revision); at += 8;
        entry.EventId.TryWriteBytes(b[at..], bigEndian: true, out _); at += 16;
        at = Bytes(b, at, entry.Data.Span);
        at = Bytes(b, at, entry.Metadata.Span);
        BinaryPrimitives.WriteInt64BigEndian(b[at..], entry.RecordedAtMicros); at += 8;
        SHA256.HashData(b[..at], into);
    }

    /// <summary>The canonical bytes of one event (without the previous hash), for documentation and tests.</summary>
    public static byte[] Canonical(ChainEntry entry)
    {
        var hasher = new ChainHasher();
        hasher.Next(Genesis, entry, stackalloc byte[HashSize]);
        var length = HashSize + 4 + Encoding.UTF8.GetByteCount(entry.Type) + 4 + Encoding.UTF8.GetByteCount(entry.StreamId) + 8 + 16
                     + 4 + entry.Data.Length + 4 + entry.Metadata.Length + 8;
        return hasher.buffer.AsSpan(HashSize, length - HashSize).ToArray();
    }

    private static int Text(Span<byte> b, int at, string text)
    {
        var n = Encoding.UTF8.GetBytes(text, b[(at + 4)..]);
        BinaryPrimitives.WriteUInt32BigEndian(b[at..], (uint)n);
        return at + 4 + n;
    }

    private static int Bytes(Span<byte> b, int at, ReadOnlySpan<byte> bytes)
    {
        BinaryPrimitives.WriteUInt32BigEndian(b[at..], (uint)bytes.Length);
        bytes.CopyTo(b[(at + 4)..]);
        return at + 4 + bytes.Length;
    }

    public static string Hex(ReadOnlySpan<byte> hash) => Convert.ToHexStringLower(hash);
}
