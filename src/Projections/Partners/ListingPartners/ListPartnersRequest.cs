using MediatR;

namespace Steller.Projections.Partners.ListingPartners;

/// <summary>Operators' partner search (GET /admin/partners) from read.partners, by partner id, in the one pagination shape.</summary>
public sealed record ListPartnersRequest(string? Q, string? Status, int Limit, string? AfterPartnerId) : IRequest<PartnerPage>;

public sealed class ListPartnersHandler(PartnersQuery query) : IRequestHandler<ListPartnersRequest, PartnerPage>
{
    public Task<PartnerPage> Handle(ListPartnersRequest r, CancellationToken ct) => query.Page(r.Q, r.Status, r.Limit, r.AfterPartnerId, ct);
}
