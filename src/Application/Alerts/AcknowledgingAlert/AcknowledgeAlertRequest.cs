using MediatR;
using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Application.Pipeline;
using Steller.Domain.Alerts;

namespace Steller.Application.Alerts.AcknowledgingAlert;

/// <summary>
/// An operator acknowledges an open alert (POST /admin/alerts/{id}/acknowledge). <see cref="Kind"/> and <see cref="Subject"/>
/// name its cause (the edge finds them in read.alerts by id); the alert's stream decides.
/// </summary>
public sealed record AcknowledgeAlertRequest(string AlertId, string Kind, string Subject, EventMetadata Metadata)
    : IRequest<CommandOutcome<Alert>>;

public sealed class AcknowledgeAlertHandler(AggregateCommands<Alert, IAlertCommand, IAlertEvent> alerts)
    : IRequestHandler<AcknowledgeAlertRequest, CommandOutcome<Alert>>
{
    public Task<CommandOutcome<Alert>> Handle(AcknowledgeAlertRequest request, CancellationToken ct) =>
        alerts.Execute(Alert.StreamName(request.Kind, request.Subject),
            new AcknowledgeAlert(request.AlertId, request.Metadata.Actor, request.Metadata.RecordedAt), request.Metadata, ct: ct);
}
