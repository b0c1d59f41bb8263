using Steller.Domain.Partners;

namespace Steller.Application.Partners;

/// <summary>
/// The partner as this request's signature check read it (<see cref="AuthenticatingRequests.ApiKeyResolver"/>), kept for the
/// rest of the same request so pricing does not read the partner's stream a second time a few milliseconds later. Nothing
/// is kept across requests: each signed request reads the partner afresh, so a revoked key, a suspension or a new margin
/// counts from the next request on every node, as before. The request's edge opens the scope (<see cref="Begin"/>); outside
/// one (jobs, process managers, the CLI) nothing is kept.
/// </summary>
public static class RequestPartnerRead
{
    private sealed class Slot
    {
        public string? PartnerId;
        public (Partner State, long Revision) Read;
    }

    private static readonly AsyncLocal<Slot?> current = new();

    /// <summary>Opens the scope for the calling flow (an HTTP request): what is remembered flows down to its handlers.</summary>
    public static void Begin() => current.Value = new Slot();

    /// <summary>Remembers <paramref name="read"/> as this request's read of <paramref name="partnerId"/> (no-op outside a scope).</summary>
    public static void Remember(string partnerId, (Partner State, long Revision) read)
    {
        if (current.Value is { } slot)
        {
            slot.PartnerId = partnerId;
            slot.Read = read;
        }
    }

    /// <summary>This request's read of <paramref name="partnerId"/>, when the request has read it.</summary>
    public static bool TryGet(string partnerId, out (Partner State, long Revision) read)
    {
        if (current.Value is { PartnerId: { } id } slot && id == partnerId)
        {
            read = slot.Read;
            return true;
        }
        read = default;
        return false;
    }
}
