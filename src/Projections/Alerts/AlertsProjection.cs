using Steller.Application.EventStore;
using Steller.Application.Serialization;
using Steller.Domain.Alerts;
using Steller.Projections.Engine;

namespace Steller.Projections.Alerts;

/// <summary>
/// read.alerts: one row per opening of an alert cause (id, kind, subject, status open/acknowledged/closed, opened, acknowledged
/// and closed times, details), from the alert streams. Alerts are few; each event is one short statement.
/// </summary>
public sealed class AlertsProjection : IProjection
{
    public const string ProjectionName = "alerts";
    private readonly EventTypeRegistry registry = ProjectionEvents.Registry;

    public string Name => ProjectionName;
    public int Version => 1;
    public IReadOnlySet<string>? EventTypes { get; } = EventNames.Of<IAlertEvent>();
    public IReadOnlyList<string> Tables { get; } = ["alerts"];

    public string CreateTablesSql(string schema) => $"""
        create table {schema}.alerts (
            alert_id         text        primary key,
            kind             text        not null,
            subject          text        not null,
            status           text        not null,   -- open | acknowledged | closed
            details          text        not null,
            opened_at        timestamptz not null,
            acknowledged_at  timestamptz,
            acknowledged_by  text,
            closed_at        timestamptz,
            close_reason     text
        );
        create index on {schema}.alerts (opened_at desc, alert_id desc);
        create index on {schema}.alerts (kind, subject) where status <> 'closed';
        """;

    public IReadOnlyList<ReadViewDoc> Docs { get; } =
    [
        new("alerts", "One row per opening of an operational alert (docs/alerts.md); a cause that opens again is a new row.",
            ("alert_id", "Alert id: al_ and 26 base32 characters, derived from kind, subject and the opening's number."),
            ("kind", "stock_low, negative_margin, order_stuck, vendor_errors, vendor_rate_limited, webhook_failed, webhook_endpoint_disabled or audit_drift."),
            ("subject", "What the alert is about, per kind: e.g. sku@location for stock_low, a vendor, an order id, vendor-reconciliation:giftcard:EUR."),
            ("status", "open, acknowledged (someone is on it) or closed."),
            ("details", "What was seen when the alert opened, in words."),
            ("opened_at", "When the alert opened (UTC)."),
            ("acknowledged_at", "When it was acknowledged (UTC); null if never."),
            ("acknowledged_by", "Who acknowledged it (admin:{token name}); null if never."),
            ("closed_at", "When it closed (UTC); null while open or acknowledged."),
            ("close_reason", "Why it closed (the cause went away, or a person closed it); null while not closed.")),
    ];

    public async Task Apply(IReadOnlyList<RecordedEvent> events, ProjectionContext context)
    {
        foreach (var e in events)
            switch (registry.Deserialize(e.Type, e.Data.Span))
            {
                case AlertOpened o:
                    await context.Execute("""
                        insert into {schema}.alerts (alert_id, kind, subject, status, details, opened_at)
                        values (@AlertId, @Kind, @Subject, 'open', @Details, @OpenedAt) on conflict (alert_id) do nothing
                        """, new { o.AlertId, o.Kind, o.Subject, o.Details, OpenedAt = o.OpenedAt.UtcDateTime });
                    break;
                case AlertAcknowledged a:
                    await context.Execute("""
                        update {schema}.alerts set status = 'acknowledged', acknowledged_at = @At, acknowledged_by = @By
                         where alert_id = @AlertId and status = 'open'
                        """, new { a.AlertId, At = a.AcknowledgedAt.UtcDateTime, a.By });
                    break;
                case AlertClosed c:
                    await context.Execute("""
                        update {schema}.alerts set status = 'closed', closed_at = @At, close_reason = @Reason where alert_id = @AlertId
                        """, new { c.AlertId, At = c.ClosedAt.UtcDateTime, c.Reason });
                    break;
            }
    }
}
