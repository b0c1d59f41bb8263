using MediatR;
using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Application.Time;
using Steller.Domain.Partners;

namespace Steller.Application.Partners.OnboardingPartner;

/// <summary>Onboard a partner under the given id (or a new one); an agency's sub-partner names an existing parent.</summary>
public sealed record OnboardPartnerRequest(string? PartnerId, string? Name, string? ContactEmail, string? ParentPartnerId,
    EventMetadata Metadata)
    : IRequest<CommandOutcome<Partner>>;

/// <summary>Onboards a partner; a repeat with the same details is a no-op (its event id derives from the partner id).</summary>
public sealed class OnboardPartnerHandler(AggregateCommands<Partner, IPartnerCommand, IPartnerEvent> partners, IClock clock)
    : IRequestHandler<OnboardPartnerRequest, CommandOutcome<Partner>>
{
    public async Task<CommandOutcome<Partner>> Handle(OnboardPartnerRequest request, CancellationToken ct)
    {
        var partnerId = string.IsNullOrWhiteSpace(request.PartnerId) ? NewPartnerId() : request.PartnerId.Trim();
        var parent = string.IsNullOrWhiteSpace(request.ParentPartnerId) ? null : request.ParentPartnerId.Trim();
        if (parent is not null && parent != partnerId && Partner.IsValidId(parent)
            && !(await partners.LoadPartner(parent, ct)).State.Exists)
            return new CommandOutcome<Partner>(Partner.Empty, -1, [], PartnerErrors.ParentNotFound, default);

        var command = new OnboardPartner(partnerId, request.Name ?? "", request.ContactEmail ?? "", parent, clock.UtcNow);
        if (!Partner.IsValidId(partnerId))
            return new CommandOutcome<Partner>(Partner.Empty, -1, [], PartnerErrors.InvalidPartnerId, default);
        return await partners.Execute(Partner.StreamName(partnerId), command, request.Metadata, eventIdSeed: "onboarded", ct: ct);
    }

    /// <summary>"p-" and 20 lowercase base32 characters (100 random bits).</summary>
    public static string NewPartnerId() => "p-" + RandomIds.Base32(20);
}
