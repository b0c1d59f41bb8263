using MediatR;
using Steller.Application.Commands;
using Steller.Domain.Partners;

namespace Steller.Application.Partners.ViewingPartner;

/// <summary>One partner, live from its stream; null when there is none.</summary>
public sealed record GetPartnerRequest(string PartnerId) : IRequest<PartnerView?>;

public sealed class GetPartnerHandler(AggregateCommands<Partner, IPartnerCommand, IPartnerEvent> partners)
    : IRequestHandler<GetPartnerRequest, PartnerView?>
{
    public async Task<PartnerView?> Handle(GetPartnerRequest request, CancellationToken ct)
    {
        var (partner, revision) = await partners.LoadPartner(request.PartnerId, ct);
        return partner.Exists ? PartnerView.Of(partner, revision) : null;
    }
}
