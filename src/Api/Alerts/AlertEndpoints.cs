using MediatR;
using Steller.Api.Admin;
using Steller.Api.Http;
using Steller.Application.Alerts.AcknowledgingAlert;
using Steller.Application.Time;
using Steller.Domain.Alerts;
using Steller.Infrastructure.Admin;
using Steller.Projections.Alerts;
using Steller.Projections.Alerts.ListingAlerts;
using Steller.Projections.Orders;

namespace Steller.Api.Alerts;

/// <summary>Operational alerts for operators (docs/alerts.md): the list from read.alerts and acknowledging one.</summary>
public sealed class AlertEndpoints : IEndpointModule
{
    public static readonly ErrorStatuses Statuses = new ErrorStatuses()
        .With(404, AlertErrors.NotFound.Code)
        .With(409, AlertErrors.Closed.Code);

    public void Map(IEndpointRouteBuilder app)
    {
        var alerts = AdminEndpoints.Group(app).MapGroup("/alerts").WithTags("Alerts");

        alerts.MapGet("/", async (string? status, string? kind, string? limit, string? after, IMediator mediator, CancellationToken ct) =>
            {
                if (!QueryParameters.TryLimit(limit, AlertsQuery.DefaultLimit, AlertsQuery.MaxLimit, out var count, out var problem)) return problem!;
                if (!OrderCursor.TryDecode(after, out _)) return QueryParameters.InvalidCursor();
                if (status is not null && !AlertsQuery.Statuses.Contains(status))
                    return Problems.Result(400, "invalid_query", "'status' must be open, acknowledged or closed.",
                        new Dictionary<string, object?> { ["parameter"] = "status" });
                if (kind is not null && !AlertKinds.IsKnown(kind))
                    return Problems.Result(400, "invalid_query", $"'kind' must be one of {string.Join(", ", AlertKinds.All)}.",
                        new Dictionary<string, object?> { ["parameter"] = "kind" });
                return Results.Ok(await mediator.Send(new ListAlertsRequest(status, kind, count, after), ct));
            })
            .WithSummary("Operational alerts from read.alerts, newest first: filter by status (open, acknowledged, closed) and kind; "
                         + "pages of `limit`, next page with after=`next`. An alert opens once while its cause lasts and closes when it is gone.")
            .Produces<AlertPage>().ProducesProblem(400).ProducesProblem(401).ProducesProblem(403)
            .RequireRoles(AdminRoles.Support, AdminRoles.Finance, AdminRoles.Analyst);

        alerts.MapPost("/{alertId}/acknowledge", async (string alertId, HttpContext http, IMediator mediator, IClock clock, CancellationToken ct) =>
            {
                if (await mediator.Send(new GetAlertRequest(alertId), ct) is not { } alert)
                    return Outcomes.Problem(AlertErrors.NotFound, Statuses);
                var metadata = RequestMetadata.For(http, clock);
                var outcome = await mediator.Send(new AcknowledgeAlertRequest(alert.Id, alert.Kind, alert.Subject, metadata), ct);
                if (outcome.Error is { } error) return Outcomes.Problem(error, Statuses);
                // read.alerts follows the log; answer the alert as the command left it.
                var acknowledged = outcome.NewEvents.OfType<AlertAcknowledged>().FirstOrDefault();
                return Results.Ok(alert with
                {
                    Status = outcome.State.Current!.Status.ToString().ToLowerInvariant(),
                    AcknowledgedAt = alert.AcknowledgedAt ?? acknowledged?.AcknowledgedAt.UtcDateTime,
                    AcknowledgedBy = alert.AcknowledgedBy ?? acknowledged?.By,
                });
            })
            .WithSummary("Acknowledges an open alert: it stays listed (status acknowledged) until its cause is gone, then closes. "
                         + "A repeat answers the alert as it is; a closed alert is 409 alert_closed. Roles: admin, support.")
            .Produces<AlertView>().ProducesProblem(401).ProducesProblem(403).ProducesProblem(404).ProducesProblem(409)
            .RequireRoles(AdminRoles.Support);
    }
}

public static class AlertRegistration
{
    /// <summary>The watch (read.alerts and the alert service are registered with the projections and the application) that raises and resolves, and the routes.</summary>
    /// <param name="options"><c>Alerts:*</c>, loaded (and validated) with the other settings at startup.</param>
    public static IServiceCollection AddAlerts(this IServiceCollection services, AlertOptions options)
    {
        services.AddSingleton(options);
        services.AddSingleton<AlertWatch>();
        services.AddHostedService<AlertWatchService>();
        services.AddSingleton<IEndpointModule, AlertEndpoints>();
        return services;
    }
}
