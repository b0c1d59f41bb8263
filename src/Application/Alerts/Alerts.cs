using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Application.Time;
using Steller.Domain.Alerts;

namespace Steller.Application.Alerts;

/// <summary>
/// Operational alerts as any feature raises them (docs/alerts.md): <see cref="Raise"/> when a cause is there (an alert opens
/// once; raising it again while it is open changes nothing), <see cref="Resolve"/> when it is gone (the open alert closes;
/// nothing happens when none is open). A cause is a kind (<see cref="AlertKinds"/>) and a subject: "stock_low" of "sku@location".
/// </summary>
public interface IAlerts
{
    /// <summary>True when this call opened the alert; false when it was open already.</summary>
    Task<bool> Raise(string kind, string subject, string details, CancellationToken ct = default);

    /// <summary>True when this call closed an open alert; false when none was open.</summary>
    Task<bool> Resolve(string kind, string subject, string reason, CancellationToken ct = default);
}

/// <summary>Each cause is an event-sourced alert stream (<see cref="Alert"/>): the log says when each alert opened and closed.</summary>
public sealed class EventSourcedAlerts(AggregateCommands<Alert, IAlertCommand, IAlertEvent> alerts, IClock clock) : IAlerts
{
    public const string Actor = "system:alerts";

    public async Task<bool> Raise(string kind, string subject, string details, CancellationToken ct = default)
    {
        var now = clock.UtcNow;
        var outcome = await alerts.Execute(Alert.StreamName(kind, subject), new RaiseAlert(kind, subject, details, now), Metadata(kind, subject, now), ct: ct);
        if (outcome.Error is { } error) throw new ArgumentException($"{error.Code}: {error.Message}");
        return outcome.NewEvents.Count > 0;
    }

    public async Task<bool> Resolve(string kind, string subject, string reason, CancellationToken ct = default)
    {
        var now = clock.UtcNow;
        var outcome = await alerts.Execute(Alert.StreamName(kind, subject), new ResolveAlert(reason, now), Metadata(kind, subject, now), ct: ct);
        if (outcome.Error is { } error) throw new ArgumentException($"{error.Code}: {error.Message}");
        return outcome.NewEvents.Count > 0;
    }

    private static EventMetadata Metadata(string kind, string subject, DateTimeOffset now) =>
        new($"alert-{kind}", $"alert-{kind}", Guid.NewGuid(), Actor, now);
}
