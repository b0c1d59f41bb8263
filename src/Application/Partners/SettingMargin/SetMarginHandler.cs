using Steller.Domain.Partners;

namespace Steller.Application.Partners.SettingMargin;

public sealed record SetMarginRequest(string Basis, int BasisPoints);

/// <summary>Records the partner's margin (stored only; pricing reads it when the catalog arrives).</summary>
public sealed class SetMarginHandler(PartnerStreams partners)
{
    public Task<PartnerOutcome> Handle(string partnerId, SetMarginRequest request, CommandContext context, CancellationToken ct = default) =>
        partners.Execute(partnerId, s => Partner.Decide(new SetMargin(request.Basis, request.BasisPoints), s), context, ct: ct);
}
