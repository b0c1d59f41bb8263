namespace Steller.Domain.Alerts;

public static class AlertErrors
{
    public static readonly DomainError NotFound = new("alert_not_found", "No alert with this id.");
    public static readonly DomainError Closed = new("alert_closed", "The alert is closed: its cause is gone.");
    public static readonly DomainError UnknownKind = new("invalid_alert_kind", "Not an alert kind Steller knows.");
    public static readonly DomainError InvalidSubject = new("invalid_alert_subject", "An alert subject is 1 to 200 characters.");
}
