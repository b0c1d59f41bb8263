using Steller.Domain.Partners;

namespace Steller.Application.Partners.ReactivatingPartner;

public sealed class ReactivatePartnerHandler(PartnerStreams partners)
{
    public Task<PartnerOutcome> Handle(string partnerId, CommandContext context, CancellationToken ct = default) =>
        partners.Execute(partnerId, s => Partner.Decide(new ReactivatePartner(partners.Clock.UtcNow), s), context, ct: ct);
}
