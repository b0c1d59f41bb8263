using MediatR;
using Steller.Application.Pipeline;
using Steller.Domain.Alerts;

namespace Steller.Projections.Alerts.ListingAlerts;

/// <summary>GET /admin/alerts: read.alerts newest first, filtered by status and kind, in pages (items, next).</summary>
public sealed record ListAlertsRequest(string? Status, string? Kind, int Limit, string? After) : IRequest<AlertPage>, IValidated
{
    public void Validate(FieldErrors errors)
    {
        errors.Check(Status is null || AlertsQuery.Statuses.Contains(Status), "status", "one of open, acknowledged, closed");
        errors.Check(Kind is null || AlertKinds.IsKnown(Kind), "kind", $"one of {string.Join(", ", AlertKinds.All)}");
        errors.Check(Limit is >= 1 and <= AlertsQuery.MaxLimit, "limit", $"between 1 and {AlertsQuery.MaxLimit}");
    }
}

public sealed class ListAlertsHandler(AlertsQuery query) : IRequestHandler<ListAlertsRequest, AlertPage>
{
    public Task<AlertPage> Handle(ListAlertsRequest request, CancellationToken ct) =>
        query.Page(request.Status, request.Kind, request.Limit, request.After, ct);
}

/// <summary>One alert by id (the acknowledge route finds its cause here).</summary>
public sealed record GetAlertRequest(string Id) : IRequest<AlertView?>;

public sealed class GetAlertHandler(AlertsQuery query) : IRequestHandler<GetAlertRequest, AlertView?>
{
    public Task<AlertView?> Handle(GetAlertRequest request, CancellationToken ct) => query.Get(request.Id, ct);
}
