using Steller.Domain.Partners;

namespace Steller.Application.Partners.SuspendingPartner;

public sealed record SuspendPartnerRequest(string Reason);

/// <summary>Suspends a partner: its signed requests are refused (partner_suspended) until it is reactivated.</summary>
public sealed class SuspendPartnerHandler(PartnerStreams partners)
{
    public Task<PartnerOutcome> Handle(string partnerId, SuspendPartnerRequest request, CommandContext context, CancellationToken ct = default) =>
        partners.Execute(partnerId, s => Partner.Decide(new SuspendPartner(request.Reason, partners.Clock.UtcNow), s), context, ct: ct);
}
