using MediatR;

namespace Steller.Projections.Audits.ListingAuditRuns;

/// <summary>GET /admin/audits?kind=&amp;limit=&amp;after=: stored audit runs, newest first, in the one pagination shape.</summary>
public sealed record ListAuditRunsRequest(string? Kind, int Limit, long? After) : IRequest<AuditRunPage>;

public sealed class ListAuditRunsHandler(AuditRuns runs) : IRequestHandler<ListAuditRunsRequest, AuditRunPage>
{
    public Task<AuditRunPage> Handle(ListAuditRunsRequest request, CancellationToken ct) => runs.Page(request.Kind, request.Limit, request.After, ct);
}
