using System.Security.Cryptography;
using System.Text;

namespace Steller.Application.Commands;

public static class DeterministicIds
{
    /// <summary>A name-based UUID (SHA-256, version 8 bits set) so the same step always has the same event id.</summary>
    public static Guid For(string name)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(name));
        hash[6] = (byte)((hash[6] & 0x0F) | 0x80);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash.AsSpan(0, 16), bigEndian: true);
    }
}
