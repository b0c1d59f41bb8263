using System.Security.Cryptography;
using Steller.Infrastructure.Crypto;

namespace Steller.Testing;

/// <summary>A real AES-GCM key ring with one fresh random key, for tests that seal and open secrets.</summary>
public static class TestKeyRing
{
    public static AesGcmKeyRing Create() =>
        new(new Dictionary<string, byte[]> { ["test-1"] = RandomNumberGenerator.GetBytes(AesGcmKeyRing.KeySize) }, "test-1");
}
