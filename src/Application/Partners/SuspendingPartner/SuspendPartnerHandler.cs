using MediatR;
using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Application.Time;
using Steller.Domain.Partners;

namespace Steller.Application.Partners.SuspendingPartner;

public sealed record SuspendPartnerRequest(string PartnerId, string? Reason, EventMetadata Metadata, long? IfMatch = null)
    : IRequest<CommandOutcome<Partner>>;

/// <summary>Suspends a partner: its signed requests are refused (partner_suspended) until it is reactivated.</summary>
public sealed class SuspendPartnerHandler(AggregateCommands<Partner, IPartnerCommand, IPartnerEvent> partners, IClock clock)
    : IRequestHandler<SuspendPartnerRequest, CommandOutcome<Partner>>
{
    public Task<CommandOutcome<Partner>> Handle(SuspendPartnerRequest request, CancellationToken ct) =>
        partners.ExecuteOn(request.PartnerId, new SuspendPartner(request.Reason ?? "", clock.UtcNow), request.Metadata, request.IfMatch,
            ct: ct);
}
