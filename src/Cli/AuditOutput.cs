namespace Steller.Cli;

/// <summary>The lines both audits (<c>steller ledger audit</c>, <c>steller stock audit</c>) end with: each drift, then the verdict.</summary>
internal static class AuditOutput
{
    /// <summary>One drift finding; <paramref name="readModel"/> is null when it is about the log alone.</summary>
    public static string Drift(string subject, string field, string log, string? readModel, string message) => readModel is null
        ? $"DRIFT {subject} {field}: log {log}. {message}"
        : $"DRIFT {subject} {field}: log (folded) {log}, read model {readModel}. {message}";

    /// <summary>The verdict: clean only when nothing drifted and the read model has applied the whole log.</summary>
    public static string Verdict(string audit, string result, string? readModelPosition, string position, bool stopped, int drifts) => result switch
    {
        "clean" => $"{audit} audit clean: no drift, the read model has applied the whole log.",
        "behind" => $"{audit} audit NOT CLEAN: the read model is behind (at {readModelPosition}; the log ends at {position})"
            + (stopped ? " and its projection is stopped" : "") + "; no drift up to its checkpoint.",
        _ => $"{audit} audit FAILED: {drifts} drift(s).",
    };
}
