using System.Security.Cryptography;
using System.Text;
using Steller.Application.Crypto;

namespace Steller.Infrastructure.Crypto;

/// <summary>
/// AES-256-GCM with 96-bit random nonces and 128-bit tags. Blob layout: nonce (12) ‖ ciphertext ‖ tag (16).
/// The key id travels next to the blob (in the event), so any key of the ring can open what it sealed.
/// </summary>
public sealed class AesGcmKeyRing : IKeyRing
{
    public const int KeySize = 32, NonceSize = 12, TagSize = 16;
    private readonly Dictionary<string, byte[]> keys;

    public AesGcmKeyRing(IReadOnlyDictionary<string, byte[]> keys, string activeKeyId)
    {
        if (keys.Count == 0) throw new ArgumentException("A key ring needs at least one key.", nameof(keys));
        foreach (var (id, key) in keys)
            if (key.Length != KeySize)
                throw new ArgumentException($"Key '{id}' is {key.Length} bytes; AES-256 needs {KeySize}.", nameof(keys));
        if (!keys.ContainsKey(activeKeyId))
            throw new ArgumentException($"The active key '{activeKeyId}' is not in the ring.", nameof(activeKeyId));
        this.keys = keys.ToDictionary(k => k.Key, k => k.Value.ToArray(), StringComparer.Ordinal);
        ActiveKeyId = activeKeyId;
    }

    public string ActiveKeyId { get; }
    public IReadOnlyCollection<string> KeyIds => keys.Keys;

    public SealedSecret Encrypt(ReadOnlySpan<byte> plaintext, string context)
    {
        var blob = new byte[NonceSize + plaintext.Length + TagSize];
        var nonce = blob.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(keys[ActiveKeyId], TagSize);
        aes.Encrypt(nonce, plaintext, blob.AsSpan(NonceSize, plaintext.Length), blob.AsSpan(NonceSize + plaintext.Length),
            Aad(ActiveKeyId, context));
        return new SealedSecret(ActiveKeyId, blob);
    }

    public byte[] Decrypt(string keyId, ReadOnlySpan<byte> blob, string context)
    {
        if (!keys.TryGetValue(keyId, out var key)) throw new CryptographicException($"The key ring has no key '{keyId}'.");
        if (blob.Length < NonceSize + TagSize) throw new CryptographicException("The sealed blob is too short.");
        var length = blob.Length - NonceSize - TagSize;
        var plaintext = new byte[length];
        using var aes = new AesGcm(key, TagSize);
        aes.Decrypt(blob[..NonceSize], blob.Slice(NonceSize, length), blob[(NonceSize + length)..], plaintext, Aad(keyId, context));
        return plaintext;
    }

    // The key id is authenticated too: relabelling a blob with another key id cannot pass.
    private static byte[] Aad(string keyId, string context) => Encoding.UTF8.GetBytes($"steller/v1\n{keyId}\n{context}");
}
