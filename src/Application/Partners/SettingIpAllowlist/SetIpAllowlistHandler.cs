using Steller.Domain.Partners;

namespace Steller.Application.Partners.SettingIpAllowlist;

public sealed record SetIpAllowlistRequest(IReadOnlyList<string>? Cidrs);

/// <summary>Replaces the partner's IP allowlist (an empty list allows every address).</summary>
public sealed class SetIpAllowlistHandler(PartnerStreams partners)
{
    public Task<PartnerOutcome> Handle(string partnerId, SetIpAllowlistRequest request, CommandContext context, CancellationToken ct = default) =>
        partners.Execute(partnerId, s => Partner.Decide(new SetIpAllowlist(request.Cidrs ?? []), s), context, ct: ct);
}
