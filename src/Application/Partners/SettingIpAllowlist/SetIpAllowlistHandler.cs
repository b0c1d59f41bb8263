using MediatR;
using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Application.Time;
using Steller.Domain.Partners;

namespace Steller.Application.Partners.SettingIpAllowlist;

public sealed record SetIpAllowlistRequest(string PartnerId, IReadOnlyList<string>? Cidrs, EventMetadata Metadata, long? IfMatch = null)
    : IRequest<CommandOutcome<Partner>>;

/// <summary>Replaces the partner's IP allowlist (an empty list allows every address).</summary>
public sealed class SetIpAllowlistHandler(AggregateCommands<Partner, IPartnerCommand, IPartnerEvent> partners)
    : IRequestHandler<SetIpAllowlistRequest, CommandOutcome<Partner>>
{
    public Task<CommandOutcome<Partner>> Handle(SetIpAllowlistRequest request, CancellationToken ct) =>
        partners.ExecuteOn(request.PartnerId, new SetIpAllowlist(request.Cidrs ?? []), request.Metadata, request.IfMatch, ct: ct);
}
