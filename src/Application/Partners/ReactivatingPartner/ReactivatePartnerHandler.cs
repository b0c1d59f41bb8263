using MediatR;
using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Application.Time;
using Steller.Domain.Partners;

namespace Steller.Application.Partners.ReactivatingPartner;

public sealed record ReactivatePartnerRequest(string PartnerId, EventMetadata Metadata, long? IfMatch = null)
    : IRequest<CommandOutcome<Partner>>;

/// <summary>Reactivates a suspended partner: its signed requests are accepted again.</summary>
public sealed class ReactivatePartnerHandler(AggregateCommands<Partner, IPartnerCommand, IPartnerEvent> partners, IClock clock)
    : IRequestHandler<ReactivatePartnerRequest, CommandOutcome<Partner>>
{
    public Task<CommandOutcome<Partner>> Handle(ReactivatePartnerRequest request, CancellationToken ct) =>
        partners.ExecuteOn(request.PartnerId, new ReactivatePartner(clock.UtcNow), request.Metadata, request.IfMatch, ct: ct);
}
