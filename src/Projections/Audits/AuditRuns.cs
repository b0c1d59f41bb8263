using Steller.Application.Alerts;
using Steller.Domain.Alerts;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.Logging;
using Npgsql;
using Steller.Projections.Inventory;
using Steller.Projections.VendorAccounts;
using Steller.Projections.Wallets;

namespace Steller.Projections.Audits;

/// <summary>The kinds of audit run and who starts them.</summary>
public static class AuditKinds
{
    public const string Ledger = "ledger";
    public const string Stock = "stock";
    public const string VendorReconciliation = "vendor-reconciliation";
    /// <summary>The hash chain over the log recomputed (docs/ledger-verification.md): drift = an edited, deleted or inserted event.</summary>
    public const string Chain = "chain";
    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal) { Ledger, Stock, VendorReconciliation, Chain };
}

public static class AuditTriggers
{
    public const string Nightly = "nightly";
    public const string Cli = "cli";
    public const string Api = "api";
}

/// <summary>
/// One stored run (read.audit_runs). <see cref="Flagged"/>: the result is drift or error, someone must look.
/// <see cref="DriftLines"/>: one sentence per finding.
/// </summary>
public sealed record AuditRun(long Id, string Kind, string? Subject, string Trigger, DateTimeOffset StartedAt, DateTimeOffset FinishedAt,
    long? EventsFolded, string Result, bool Flagged, IReadOnlyList<string> DriftLines, JsonElement? Summary = null)
{
    /// <summary>At most this many drift lines are stored; the last one then says how many more there were.</summary>
    public const int MaxLines = 1_000;

    public static AuditRun OfLedger(LedgerAuditReport r, DateTimeOffset started, DateTimeOffset finished, string trigger) =>
        new(0, AuditKinds.Ledger, r.AsOf is { } asOf ? $"as-of:{asOf:O}" : null, trigger, started, finished, r.EventsRead, r.Result,
            r.Result == "drift",
            Lines(r.Drifts.Select(d => $"{d.Account} {d.Field}: log {d.Log}, read model {d.ReadModel ?? "-"}. {d.Message}")
                .Concat(r.Result == "behind" && r.ReadModelNote is { } note ? [note] : [])));

    public static AuditRun OfStock(StockAuditReport r, DateTimeOffset started, DateTimeOffset finished, string trigger) =>
        new(0, AuditKinds.Stock, r.AsOf is { } asOf ? $"as-of:{asOf:O}" : null, trigger, started, finished, r.EventsRead, r.Result,
            r.Result == "drift",
            Lines(r.Drifts.Select(d => $"{d.Sku}/{d.Location} {d.Field}: log {d.Log}, read model {d.ReadModel ?? "-"}. {d.Message}")
                .Concat(r.Result == "behind" && r.ReadModelNote is { } note ? [note] : [])));

    public static AuditRun OfReconciliation(VendorReconciliationReport r, DateTimeOffset started, DateTimeOffset finished, string trigger) =>
        new(0, AuditKinds.VendorReconciliation, $"{r.Vendor}:{r.Currency}", trigger, started, finished, null, r.Result, r.Flagged,
            Lines(r.DriftLines), JsonSerializer.SerializeToElement(new
            {
                r.LedgerBalance, r.VendorBalance, r.VendorReported, r.Difference, r.InFlight, r.InFlightOrders, r.Unexplained, r.Note,
            }, AuditRuns.Json));

    /// <summary>A run that could not finish (the vendor did not answer, the database failed): flagged, with the reason.</summary>
    public static AuditRun OfChain(Chain.ChainVerification v, string trigger, DateTimeOffset started, DateTimeOffset finished) =>
        new(0, AuditKinds.Chain, null, trigger, started, finished, v.EventsChecked, v.Intact ? "clean" : "drift", !v.Intact,
            v.Break is { } b ? [$"{b.Kind} at {b.Position} (link {b.Sequence}): {b.Message}"] : [],
            JsonSerializer.SerializeToElement(new { v.Sequence, v.Position, v.Hash, v.Unsealed }, AuditRuns.Json));

    public static AuditRun Failed(string kind, string? subject, string trigger, DateTimeOffset started, DateTimeOffset finished, string reason) =>
        new(0, kind, subject, trigger, started, finished, null, "error", true, [reason]);

    private static IReadOnlyList<string> Lines(IEnumerable<string> lines)
    {
        var all = lines.ToList();
        return all.Count <= MaxLines ? all : [.. all.Take(MaxLines - 1), $"… and {all.Count - (MaxLines - 1)} more finding(s)."];
    }
}

public sealed record AuditRunPage(IReadOnlyList<AuditRun> Items, string? Next);

/// <summary>ops.audit_runs (read.audit_runs): records every run and pages them, newest first.</summary>
public sealed class AuditRuns(NpgsqlDataSource dataSource, IAlerts alerts, ILogger<AuditRuns> logger)
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Stores the run; answers it with its id.</summary>
    public async Task<AuditRun> Record(AuditRun run, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var id = await conn.ExecuteScalarAsync<long>(new CommandDefinition("""
            insert into ops.audit_runs (kind, subject, trigger, started_at, finished_at, events_folded, result, flagged, drift_lines, summary)
            values (@Kind, @Subject, @Trigger, @StartedAt, @FinishedAt, @EventsFolded, @Result, @Flagged, @DriftLines::jsonb, @Summary::jsonb)
            returning id
            """, new
            {
                run.Kind, run.Subject, run.Trigger, StartedAt = run.StartedAt.UtcDateTime, FinishedAt = run.FinishedAt.UtcDateTime,
                run.EventsFolded, run.Result, run.Flagged, DriftLines = JsonSerializer.Serialize(run.DriftLines, Json),
                Summary = run.Summary?.GetRawText(),
            }, cancellationToken: ct));
        var stored = run with { Id = id };
        // Every run, whoever started it (nightly, CLI, API), moves the audit_drift alert of its kind and subject: a flagged run
        // opens it (once), a clean run closes it.
        var cause = run.Subject is null ? run.Kind : $"{run.Kind}:{run.Subject}";
        if (stored.Flagged)
        {
            logger.LogWarning("Audit run {RunId} ({Kind} {Subject}, {Trigger}) is flagged: {Result}, {Lines} finding(s); first: {First}",
                id, run.Kind, run.Subject, run.Trigger, run.Result, run.DriftLines.Count, run.DriftLines.FirstOrDefault());
            await alerts.Raise(AlertKinds.AuditDrift, cause,
                $"Audit run {id} ({run.Trigger}) found {run.Result}: {run.DriftLines.Count} finding(s); first: {run.DriftLines.FirstOrDefault()}", ct);
        }
        else await alerts.Resolve(AlertKinds.AuditDrift, cause, $"audit run {id} ({run.Trigger}) is clean", ct);
        return stored;
    }

    /// <summary>Newest first; <paramref name="after"/> is the <see cref="AuditRunPage.Next"/> of the previous page.</summary>
    public async Task<AuditRunPage> Page(string? kind, int limit, long? after, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var rows = (await conn.QueryAsync<Row>(new CommandDefinition("""
            select id as Id, kind as Kind, subject as Subject, trigger as Trigger, started_at as StartedAt, finished_at as FinishedAt,
                   events_folded as EventsFolded, result as Result, flagged as Flagged, drift_lines::text as DriftLines,
                   summary::text as Summary
              from ops.audit_runs
             where (@kind::text is null or kind = @kind)
               and (@after::bigint is null or id < @after)
             order by id desc
             limit @take
            """, new { kind, after, take = limit + 1 }, cancellationToken: ct))).ToList();
        var items = rows.Take(limit).Select(r => r.ToRun()).ToList();
        return new AuditRunPage(items, rows.Count > limit ? EncodeCursor(items[^1].Id) : null);
    }

    public static string EncodeCursor(long id) => Convert.ToBase64String(Encoding.ASCII.GetBytes($"r{id}")).TrimEnd('=');

    public static bool TryDecodeCursor(string? text, out long? id)
    {
        id = null;
        if (string.IsNullOrEmpty(text)) return true;
        try
        {
            var raw = Encoding.ASCII.GetString(Convert.FromBase64String(text.PadRight(text.Length + (4 - text.Length % 4) % 4, '=')));
            if (raw.StartsWith('r') && long.TryParse(raw.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var v))
            {
                id = v;
                return true;
            }
        }
        catch (FormatException) { }
        return false;
    }

    private sealed class Row
    {
        public long Id { get; init; }
        public string Kind { get; init; } = "";
        public string Trigger { get; init; } = "";
        public string Result { get; init; } = "";
        public string DriftLines { get; init; } = "[]";
        public string? Subject { get; init; }
        public string? Summary { get; init; }
        public DateTime StartedAt { get; init; }
        public DateTime FinishedAt { get; init; }
        public long? EventsFolded { get; init; }
        public bool Flagged { get; init; }

        public AuditRun ToRun() => new(Id, Kind, Subject, Trigger, new DateTimeOffset(DateTime.SpecifyKind(StartedAt, DateTimeKind.Utc)),
            new DateTimeOffset(DateTime.SpecifyKind(FinishedAt, DateTimeKind.Utc)), EventsFolded, Result, Flagged,
            JsonSerializer.Deserialize<List<string>>(DriftLines, Json) ?? [],
            Summary is null ? null : JsonSerializer.Deserialize<JsonElement>(Summary, Json));
    }
}
