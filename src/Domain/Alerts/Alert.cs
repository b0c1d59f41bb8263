using System.Security.Cryptography;
using System.Text;

namespace Steller.Domain.Alerts;

/// <summary>The kinds of operational alert (docs/alerts.md).</summary>
public static class AlertKinds
{
    public const string StockLow = "stock_low", NegativeMargin = "negative_margin", OrderStuck = "order_stuck",
        VendorErrors = "vendor_errors", VendorRateLimited = "vendor_rate_limited", WebhookFailed = "webhook_failed",
        WebhookEndpointDisabled = "webhook_endpoint_disabled", AuditDrift = "audit_drift";

    public static readonly IReadOnlyList<string> All =
        [StockLow, NegativeMargin, OrderStuck, VendorErrors, VendorRateLimited, WebhookFailed, WebhookEndpointDisabled, AuditDrift];

    public static bool IsKnown(string? kind) => kind is not null && All.Contains(kind, StringComparer.Ordinal);
}

public enum AlertStatus { Open, Acknowledged, Closed }

/// <summary>One opening of the cause: its id, where it stands and when it opened.</summary>
public sealed record AlertOccurrence(string AlertId, AlertStatus Status, DateTimeOffset OpenedAt);

/// <summary>
/// One alert cause (a kind and a subject: "stock_low" of "sku@location"): how often it opened and its latest opening. It opens
/// once while the cause lasts (raising it again changes nothing) and closes when the cause is gone; a later opening is a new
/// alert with a new id.
/// </summary>
public sealed record Alert(string? Kind, string? Subject, int Openings, AlertOccurrence? Current)
{
    public const string StreamPrefix = "alert-";
    public const int MaxSubjectLength = 200, MaxDetailsLength = 2000;

    public static readonly Alert Empty = new(null, null, 0, null);

    public static string StreamName(string kind, string subject) => $"{StreamPrefix}{kind}:{subject}";

    public bool IsOpen => Current is { Status: not AlertStatus.Closed };

    /// <summary>"al_" + 26 base32 characters of SHA-256(kind, subject, opening): the same opening always has the same id.</summary>
    public static string IdOf(string kind, string subject, int opening)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{kind}\n{subject}\n{opening}"));
        const string alphabet = "abcdefghijklmnopqrstuvwxyz234567";
        var chars = new char[26];
        for (var i = 0; i < chars.Length; i++)
        {
            var bit = i * 5;
            var value = ((hash[bit / 8] << 8) | hash[bit / 8 + 1]) >> (11 - bit % 8) & 31;
            chars[i] = alphabet[value];
        }
        return "al_" + new string(chars);
    }

    public static Alert Evolve(Alert state, IAlertEvent e) => e switch
    {
        AlertOpened o => state with
        {
            Kind = o.Kind, Subject = o.Subject, Openings = state.Openings + 1,
            Current = new AlertOccurrence(o.AlertId, AlertStatus.Open, o.OpenedAt),
        },
        AlertAcknowledged a when state.Current?.AlertId == a.AlertId => state with { Current = state.Current with { Status = AlertStatus.Acknowledged } },
        AlertClosed c when state.Current?.AlertId == c.AlertId => state with { Current = state.Current with { Status = AlertStatus.Closed } },
        _ => state,
    };

    public static Decision<IAlertEvent> Decide(IAlertCommand command, Alert state) => command switch
    {
        RaiseAlert r when !AlertKinds.IsKnown(r.Kind) => Decision<IAlertEvent>.Fail(AlertErrors.UnknownKind),
        RaiseAlert r when r.Subject is not { Length: >= 1 and <= MaxSubjectLength } => Decision<IAlertEvent>.Fail(AlertErrors.InvalidSubject),
        RaiseAlert when state.IsOpen => Decision<IAlertEvent>.AlreadyDone(),
        RaiseAlert r => Decision<IAlertEvent>.Emit(new AlertOpened(IdOf(r.Kind, r.Subject, state.Openings + 1), r.Kind, r.Subject,
            Cut(r.Details, MaxDetailsLength), r.Now)),
        ResolveAlert when !state.IsOpen => Decision<IAlertEvent>.AlreadyDone(),
        ResolveAlert r => Decision<IAlertEvent>.Emit(new AlertClosed(state.Current!.AlertId, state.Kind!, state.Subject!, Cut(r.Reason, 500), r.Now)),
        AcknowledgeAlert a when state.Current?.AlertId != a.AlertId => Decision<IAlertEvent>.Fail(
            state.Openings > 0 && Enumerable.Range(1, state.Openings).Any(n => IdOf(state.Kind!, state.Subject!, n) == a.AlertId)
                ? AlertErrors.Closed : AlertErrors.NotFound),
        AcknowledgeAlert when state.Current!.Status == AlertStatus.Closed => Decision<IAlertEvent>.Fail(AlertErrors.Closed),
        AcknowledgeAlert when state.Current!.Status == AlertStatus.Acknowledged => Decision<IAlertEvent>.AlreadyDone(),
        AcknowledgeAlert a => Decision<IAlertEvent>.Emit(new AlertAcknowledged(a.AlertId, state.Kind!, state.Subject!, Cut(a.By, 200), a.Now)),
        _ => throw new ArgumentOutOfRangeException(nameof(command), command, "Unknown alert command."),
    };

    private static string Cut(string text, int max) => text.Length <= max ? text : text[..max];
}
