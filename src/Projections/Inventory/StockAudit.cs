using Dapper;
using Npgsql;
using Steller.Application.EventStore;
using Steller.Application.Inventory;
using Steller.Application.Serialization;
using Steller.Domain.Inventory;

namespace Steller.Projections.Inventory;

/// <summary>
/// One stock item in the audit: what the event store says (and the lowest available it ever had), and read.stock_levels
/// (null when not compared).
/// </summary>
public sealed record AuditedStock(string Sku, string Location, long OnHand, long Reserved, long Available, long LowestAvailable,
    long LowThreshold, long Revision, long? ReadModelOnHand, long? ReadModelReserved);

/// <summary>
/// A finding: <see cref="Field"/> of sku/location is <see cref="Log"/> when the event log is folded and
/// <see cref="ReadModel"/> in read.stock_levels at its checkpoint (null when the finding is about the log alone, e.g. an
/// oversell or a stream that cannot be folded).
/// </summary>
public sealed record StockDrift(string Sku, string Location, string Field, string Log, string? ReadModel, string Message);

/// <param name="Result">"clean"; "drift" (the log and the read model disagree, or the log itself is wrong); "behind" (no
/// drift, but the read model has not applied every stock event of the log: it is catching up or stopped). Only "clean" is
/// clean.</param>
/// <param name="Position">The last event of the log that was folded.</param>
/// <param name="ReadModelPosition">The read model's checkpoint, where it was compared (null when not compared).</param>
/// <param name="StockEventsBehind">Stock events in the log after the read model's checkpoint.</param>
/// <param name="ReadModelStopped">The error of the stopped stock_levels projection, if it is stopped.</param>
/// <param name="ParkedEvents">Events stock_levels parked (its read model lacks them).</param>
public sealed record StockAuditReport(
    DateTimeOffset? AsOf,
    string Position,
    long EventsRead,
    long StockEvents,
    bool ComparedWithReadModel,
    string? ReadModelNote,
    IReadOnlyList<AuditedStock> Items,
    IReadOnlyList<StockDrift> Drifts,
    string Result = "clean",
    string? ReadModelPosition = null,
    long StockEventsBehind = 0,
    string? ReadModelStopped = null,
    long ParkedEvents = 0)
{
    public bool Clean => Result == "clean";
}

/// <summary>
/// Folds every stock stream of the event store's whole global log through <see cref="Stock.Evolve"/>, checks that
/// available (on hand − reserved) was never negative at any revision, and compares every item with read.stock_levels.
/// The read model is read first, with its checkpoint; the fold keeps each item's state as of that checkpoint for the
/// comparison (a read model that is behind is not drift) and goes on to the end of the log: stock events after the
/// checkpoint make the result "behind", never "clean". With an as-of instant nothing is compared.
/// </summary>
public sealed class StockAudit(IEventStore store, EventTypeRegistry registry, NpgsqlDataSource dataSource)
{
    public const int PageSize = 5_000;

    private sealed record ReadModelRow(string Sku, string Location, long OnHand, long Reserved, long LowThreshold);

    private sealed class Folded
    {
        public Stock State = Stock.Empty;
        public long Revision = -1;
        public long LowestAvailable;
        public bool Broken;
    }

    public async Task<StockAuditReport> Run(DateTimeOffset? asOf = null, CancellationToken ct = default)
    {
        Dictionary<(string, string), ReadModelRow>? readModel = null;
        LogPosition? checkpoint = null;
        string? note;
        ReadModelHealth? health = null;
        if (asOf is null) (readModel, checkpoint, note, health) = await LoadReadModel(ct);
        else note = "Not compared with read.stock_levels: the read model holds current levels, not levels as of an instant.";

        var items = new Dictionary<(string Sku, string Location), Folded>();
        Dictionary<(string Sku, string Location), Stock>? atCheckpoint = null; // each item as the read model should show it
        var drifts = new List<StockDrift>();
        long eventsRead = 0, stockEvents = 0, behind = 0;
        var position = LogPosition.Start;
        while (true)
        {
            var page = await store.ReadAll(position, PageSize, ct);
            if (page.Count == 0) break;
            foreach (var e in page)
            {
                if (checkpoint is { } limit && e.Position > limit && atCheckpoint is null)
                    atCheckpoint = items.ToDictionary(i => i.Key, i => i.Value.State);
                eventsRead++;
                position = e.Position;
                if (!e.Type.StartsWith("stock.", StringComparison.Ordinal)
                    || !Stock.TryParseStreamName(e.StreamId, out var sku, out var location)) continue;
                var item = items.TryGetValue((sku, location), out var seen) ? seen : items[(sku, location)] = new Folded();
                if (item.Broken || (asOf is { } instant && e.Metadata.RecordedAt > instant)) continue;
                try
                {
                    var stockEvent = registry.Deserialize(e.Type, e.Data.Span) as IStockEvent
                        ?? throw new InvalidOperationException("not a stock event");
                    item.State = Stock.Evolve(item.State, stockEvent);
                }
                catch (Exception ex) when (ex is System.Text.Json.JsonException or InvalidOperationException or KeyNotFoundException
                    or ArgumentOutOfRangeException or OverflowException) // a quantity that would wrap: reported, never a crash
                {
                    item.Broken = true; // its later events cannot be folded on a wrong state
                    drifts.Add(new StockDrift(sku, location, "stream", $"revision {e.Revision.Value} cannot be folded", null,
                        $"{e.StreamId} revision {e.Revision.Value} ({e.Type} at {e.Position}) cannot be folded: {ex.Message}; the rest of "
                            + $"the stream is left out."));
                    continue;
                }
                item.Revision = (long)e.Revision.Value;
                item.LowestAvailable = Math.Min(item.LowestAvailable, item.State.Available);
                stockEvents++;
                if (atCheckpoint is not null) behind++;
            }
            if (page.Count < PageSize) break;
        }

        atCheckpoint ??= items.ToDictionary(i => i.Key, i => i.Value.State); // the read model is at the end of the log
        var audited = new List<AuditedStock>();
        foreach (var ((sku, location), f) in items.OrderBy(i => i.Key.Sku, StringComparer.Ordinal)
            .ThenBy(i => i.Key.Location, StringComparer.Ordinal))
        {
            ReadModelRow? row = null;
            readModel?.TryGetValue((sku, location), out row);
            audited.Add(new AuditedStock(sku, location, f.State.OnHand, f.State.Reserved, f.State.Available, f.LowestAvailable,
                f.State.LowThreshold, f.Revision, row?.OnHand, row?.Reserved));
            if (f.LowestAvailable < 0)
                drifts.Add(new StockDrift(sku, location, "lowest available", f.LowestAvailable.ToString(), null,
                    $"{sku} at {location} was oversold: available went down to {f.LowestAvailable} in the event store."));
            if (readModel is null || !atCheckpoint.TryGetValue((sku, location), out var expected)) continue; // not yet in the read model
            if (row is null)
            {
                drifts.Add(new StockDrift(sku, location, "row", "present", "missing",
                    $"{sku} at {location} has stock events in the log up to the read model's checkpoint but no row in read.stock_levels."));
                continue;
            }
            Compare(drifts, sku, location, "on_hand", expected.OnHand, row.OnHand);
            Compare(drifts, sku, location, "reserved", expected.Reserved, row.Reserved);
            Compare(drifts, sku, location, "low_threshold", expected.LowThreshold, row.LowThreshold);
        }
        if (readModel is not null)
            foreach (var extra in readModel.Values.Where(r => !items.ContainsKey((r.Sku, r.Location))))
                drifts.Add(new StockDrift(extra.Sku, extra.Location, "row", "absent", "present",
                    $"read.stock_levels has a row for {extra.Sku} at {extra.Location} (on hand {extra.OnHand}) that no event in the "
                        + $"log explains."));

        if (checkpoint is { } at)
        {
            if (behind > 0)
                note += $" The read model is behind: {behind} stock event(s) in the log after its checkpoint {at} (the log ends at {position}).";
            if (health?.StoppedError is { } error) note += $" The stock_levels projection is STOPPED: {error}";
            if (health?.Parked is > 0) note += $" It parked {health.Parked} event(s) (`steller projections parked`).";
        }
        var result = drifts.Count > 0 ? "drift" : behind > 0 || health?.StoppedError is not null ? "behind" : "clean";
        return new StockAuditReport(asOf, position.ToString(), eventsRead, stockEvents, readModel is not null, note, audited, drifts,
            result, checkpoint?.ToString(), behind, health?.StoppedError, health?.Parked ?? 0);
    }

    private static void Compare(List<StockDrift> drifts, string sku, string location, string field, long log, long readModel)
    {
        if (log != readModel)
            drifts.Add(new StockDrift(sku, location, field, log.ToString(), readModel.ToString(),
                $"{sku} at {location}: {field} is {log} in the log (folded up to the read model's checkpoint) but {readModel} in "
                    + $"read.stock_levels (read model − log = {(Int128)readModel - log})."));
    }

    private sealed record ReadModelHealth(string? StoppedError, long Parked);

    /// <summary>The read model and the log position it covers, read in one snapshot.</summary>
    private async Task<(Dictionary<(string, string), ReadModelRow>?, LogPosition?, string, ReadModelHealth?)> LoadReadModel(CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);
        var checkpoint = await conn.QuerySingleOrDefaultAsync<long[]>(new CommandDefinition("""
            select array[c.commit_position, c.prepare_position]
              from steller.projections p
              join steller.projection_checkpoints c on c.name = p.name and c.generation = p.active_generation
             where p.name = 'stock_levels'
            """, transaction: tx, cancellationToken: ct));
        if (checkpoint is not [var commit, var prepare])
            return (null, null, "Not compared: the stock_levels projection has not run yet (read.stock_levels does not exist).", null);
        var rows = await conn.QueryAsync<ReadModelRow>(new CommandDefinition("""
            select sku as Sku, location as Location, on_hand as OnHand, reserved as Reserved, low_threshold as LowThreshold from read.stock_levels
            """, transaction: tx, cancellationToken: ct));
        var health = new ReadModelHealth(
            await conn.QuerySingleOrDefaultAsync<string?>(new CommandDefinition(
                "select error from steller.projection_faults where name = 'stock_levels'", transaction: tx, cancellationToken: ct)),
            await conn.ExecuteScalarAsync<long>(new CommandDefinition(
                "select count(*) from steller.projection_parked where projection = 'stock_levels'", transaction: tx, cancellationToken: ct)));
        await tx.CommitAsync(ct);
        var position = new LogPosition((ulong)commit, (ulong)prepare);
        return (rows.ToDictionary(r => (r.Sku, r.Location)), position, $"Compared with read.stock_levels at its checkpoint {position}.", health);
    }
}
