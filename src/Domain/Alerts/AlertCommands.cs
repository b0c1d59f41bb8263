namespace Steller.Domain.Alerts;

/// <summary>What can be asked of an alert cause. Time arrives on the command.</summary>
public interface IAlertCommand;

/// <summary>Opens an alert for the cause unless one is open (or acknowledged) already.</summary>
public sealed record RaiseAlert(string Kind, string Subject, string Details, DateTimeOffset Now) : IAlertCommand;

/// <summary>Closes the cause's alert if one is open; nothing otherwise.</summary>
public sealed record ResolveAlert(string Reason, DateTimeOffset Now) : IAlertCommand;

public sealed record AcknowledgeAlert(string AlertId, string By, DateTimeOffset Now) : IAlertCommand;
