using Steller.Domain.Partners;

namespace Steller.Application.Partners.OnboardingPartner;

public sealed record OnboardPartnerRequest(string? PartnerId, string Name, string ContactEmail, string? ParentPartnerId);

/// <summary>Onboards a partner under the given id (or a new one). An agency's sub-partner names an existing parent.</summary>
public sealed class OnboardPartnerHandler(PartnerStreams partners)
{
    public async Task<PartnerOutcome> Handle(OnboardPartnerRequest request, CommandContext context, CancellationToken ct = default)
    {
        var partnerId = string.IsNullOrWhiteSpace(request.PartnerId) ? NewPartnerId() : request.PartnerId.Trim();
        var parent = string.IsNullOrWhiteSpace(request.ParentPartnerId) ? null : request.ParentPartnerId.Trim();
        if (parent is not null && parent != partnerId && Partner.IsValidId(parent) && !(await partners.Load(parent, ct)).State.Exists)
            return new PartnerOutcome(Partner.Empty, PartnerErrors.ParentNotFound, null);

        var command = new OnboardPartner(partnerId, request.Name, request.ContactEmail, parent, partners.Clock.UtcNow);
        return await partners.Execute(partnerId, s => Partner.Decide(command, s), context, eventIdSeed: "onboarded", ct);
    }

    /// <summary>"p-" and 20 lowercase base32 characters (100 random bits).</summary>
    public static string NewPartnerId() => "p-" + RandomIds.Base32(20);
}
