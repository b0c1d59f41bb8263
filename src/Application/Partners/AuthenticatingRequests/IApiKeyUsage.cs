namespace Steller.Application.Partners.AuthenticatingRequests;

/// <summary>
/// When each API key last signed an accepted request. <see cref="Touch"/> is on the hot path of every signed request, so it
/// only notes the time in memory; the notes are written in one statement every few seconds (coalesced per key), never one
/// write per request. A key's last use is therefore at most one flush interval late on other nodes.
/// </summary>
public interface IApiKeyUsage
{
    /// <summary>Notes that <paramref name="keyId"/> signed an accepted request at <paramref name="at"/> (memory only).</summary>
    void Touch(string partnerId, string keyId, DateTimeOffset at);

    /// <summary>The last use of each of the partner's keys that was ever used: what is stored, merged with this node's unwritten notes.</summary>
    Task<IReadOnlyDictionary<string, DateTimeOffset>> LastUsed(string partnerId, CancellationToken ct = default);
}
