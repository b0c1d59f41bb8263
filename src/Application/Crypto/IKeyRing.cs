namespace Steller.Application.Crypto;

/// <summary>A secret sealed by the key ring: the id of the key that sealed it and nonce‖ciphertext‖tag.</summary>
public sealed record SealedSecret(string KeyId, byte[] Blob)
{
    public string BlobBase64 => Convert.ToBase64String(Blob);
}

/// <summary>
/// Encrypts secrets (API key secrets, webhook secrets, gift-card codes and PINs) before they enter an event.
/// AES-256-GCM under the active master key; older keys stay for decryption, so keys rotate by adding a new
/// active key without re-encrypting history. <paramref name="context"/> is bound as associated data: a blob only
/// opens with the same context (for example the API key id), so ciphertexts cannot be swapped between records.
/// </summary>
public interface IKeyRing
{
    string ActiveKeyId { get; }
    SealedSecret Encrypt(ReadOnlySpan<byte> plaintext, string context);
    /// <summary>
    /// Throws <see cref="System.Security.Cryptography.CryptographicException"/> for an unknown key id or a tampered blob.
    /// </summary>
    byte[] Decrypt(string keyId, ReadOnlySpan<byte> blob, string context);
}
