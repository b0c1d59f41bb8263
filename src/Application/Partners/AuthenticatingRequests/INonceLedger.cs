namespace Steller.Application.Partners.AuthenticatingRequests;

/// <summary>The nonces of accepted signed requests, shared by every node for the acceptance window.</summary>
public interface INonceLedger
{
    /// <summary>Records the nonce; false when this key already used it within the window (a replay).</summary>
    Task<bool> TryRecord(string keyId, string nonce, DateTimeOffset expiresAt, CancellationToken ct = default);

    /// <summary>Forgets nonces whose window has passed; returns how many.</summary>
    Task<int> Prune(CancellationToken ct = default);
}
