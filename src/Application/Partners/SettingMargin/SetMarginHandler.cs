using MediatR;
using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Application.Time;
using Steller.Domain.Partners;

namespace Steller.Application.Partners.SettingMargin;

public sealed record SetMarginRequest(string PartnerId, string? Basis, int BasisPoints, EventMetadata Metadata, long? IfMatch = null)
    : IRequest<CommandOutcome<Partner>>;

/// <summary>Records the partner's margin, which pricing reads from the partner's stream.</summary>
public sealed class SetMarginHandler(AggregateCommands<Partner, IPartnerCommand, IPartnerEvent> partners)
    : IRequestHandler<SetMarginRequest, CommandOutcome<Partner>>
{
    public Task<CommandOutcome<Partner>> Handle(SetMarginRequest request, CancellationToken ct) =>
        partners.ExecuteOn(request.PartnerId, new SetMargin(request.Basis ?? "", request.BasisPoints), request.Metadata, request.IfMatch,
            ct: ct);
}
