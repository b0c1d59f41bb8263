namespace Steller.Domain.Alerts;

/// <summary>Events of one alert cause (stream "alert-{kind}:{subject}"): each opening of it, its acknowledgement and its closing.</summary>
public interface IAlertEvent
{
    string AlertId { get; }
    string Kind { get; }
    string Subject { get; }
}

/// <summary>The cause appeared: an alert opens. <see cref="AlertId"/> names this opening (the same cause opening again later is another alert).</summary>
[EventName("alert.opened.v1")]
public sealed record AlertOpened(string AlertId, string Kind, string Subject, string Details, DateTimeOffset OpenedAt) : IAlertEvent;

/// <summary>An operator saw the alert; it stays until its cause is gone.</summary>
[EventName("alert.acknowledged.v1")]
public sealed record AlertAcknowledged(string AlertId, string Kind, string Subject, string By, DateTimeOffset AcknowledgedAt) : IAlertEvent;

/// <summary>The cause is gone: the alert closes.</summary>
[EventName("alert.closed.v1")]
public sealed record AlertClosed(string AlertId, string Kind, string Subject, string Reason, DateTimeOffset ClosedAt) : IAlertEvent;
