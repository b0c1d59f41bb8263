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
/// A difference: <see cref="Field"/> of sku/location is <see cref="Actual"/> in the read model, <see cref="Expected"/> in the event store.
/// </summary>
public sealed record StockDrift(string Sku, string Location, string Field, string Expected, string Actual, string Message);

public sealed record StockAuditReport(
    DateTimeOffset? AsOf,
    string Position,
    long EventsRead,
    long StockEvents,
    bool ComparedWithReadModel,
    string? ReadModelNote,
    IReadOnlyList<AuditedStock> Items,
    IReadOnlyList<StockDrift> Drifts)
{
    public bool Clean => Drifts.Count == 0;
}

/// <summary>
/// Folds every stock stream from the event store's global log through <see cref="Stock.Evolve"/>, checks that
/// available (on hand − reserved) was never negative at any revision, and compares every item with read.stock_levels.
/// The read model is read first, with its checkpoint, and the fold stops there, so a projection that is merely behind
/// is not drift. With an as-of instant nothing is compared.
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
        LogPosition? upTo = null;
        string? note;
        if (asOf is null) (readModel, upTo, note) = await LoadReadModel(ct);
        else note = "Not compared with read.stock_levels: the read model holds current levels, not levels as of an instant.";

        var items = new Dictionary<(string Sku, string Location), Folded>();
        var drifts = new List<StockDrift>();
        long eventsRead = 0, stockEvents = 0;
        var position = LogPosition.Start;
        var done = false;
        while (!done)
        {
            var page = await store.ReadAll(position, PageSize, ct);
            if (page.Count == 0) break;
            foreach (var e in page)
            {
                if (upTo is { } limit && e.Position > limit) { done = true; break; }
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
                    drifts.Add(new StockDrift(sku, location, "stream", "foldable", $"revision {e.Revision.Value}",
                        $"{e.StreamId} revision {e.Revision.Value} ({e.Type} at {e.Position}) cannot be folded: {ex.Message}; the rest of "
                            + $"the stream is left out."));
                    continue;
                }
                item.Revision = (long)e.Revision.Value;
                item.LowestAvailable = Math.Min(item.LowestAvailable, item.State.Available);
                stockEvents++;
            }
            if (page.Count < PageSize) break;
        }

        var audited = new List<AuditedStock>();
        foreach (var ((sku, location), f) in items.OrderBy(i => i.Key.Sku, StringComparer.Ordinal)
            .ThenBy(i => i.Key.Location, StringComparer.Ordinal))
        {
            ReadModelRow? row = null;
            readModel?.TryGetValue((sku, location), out row);
            audited.Add(new AuditedStock(sku, location, f.State.OnHand, f.State.Reserved, f.State.Available, f.LowestAvailable,
                f.State.LowThreshold, f.Revision, row?.OnHand, row?.Reserved));
            if (f.LowestAvailable < 0)
                drifts.Add(new StockDrift(sku, location, "available", "≥ 0", f.LowestAvailable.ToString(),
                    $"{sku} at {location} was oversold: available went down to {f.LowestAvailable} in the event store."));
            if (readModel is null) continue;
            if (row is null)
            {
                drifts.Add(new StockDrift(sku, location, "row", "present",
                    "missing", $"{sku} at {location} has stock events but no row in read.stock_levels."));
                continue;
            }
            Compare(drifts, sku, location, "on_hand", f.State.OnHand, row.OnHand);
            Compare(drifts, sku, location, "reserved", f.State.Reserved, row.Reserved);
            Compare(drifts, sku, location, "low_threshold", f.State.LowThreshold, row.LowThreshold);
        }
        if (readModel is not null)
            foreach (var extra in readModel.Values.Where(r => !items.ContainsKey((r.Sku, r.Location))))
                drifts.Add(new StockDrift(extra.Sku, extra.Location, "row", "absent", "present",
                    $"read.stock_levels has a row for {extra.Sku} at {extra.Location} (on hand {extra.OnHand}) that no event in the "
                        + $"store explains."));

        return new StockAuditReport(asOf, position.ToString(), eventsRead, stockEvents, readModel is not null, note, audited, drifts);
    }

    private static void Compare(List<StockDrift> drifts, string sku, string location, string field, long expected, long actual)
    {
        if (expected != actual)
            drifts.Add(new StockDrift(sku, location, field, expected.ToString(), actual.ToString(),
                $"{sku} at {location}: {field} is {actual} in read.stock_levels but {expected} in the event store (difference "
                    + $"{(decimal)actual - expected})."));
    }

    /// <summary>The read model and the log position it covers, read in one snapshot.</summary>
    private async Task<(Dictionary<(string, string), ReadModelRow>?, LogPosition?, string)> LoadReadModel(CancellationToken ct)
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
            return (null, null, "Not compared: the stock_levels projection has not run yet (read.stock_levels does not exist).");
        var rows = await conn.QueryAsync<ReadModelRow>(new CommandDefinition("""
            select sku as Sku, location as Location, on_hand as OnHand, reserved as Reserved, low_threshold as LowThreshold from read.stock_levels
            """, transaction: tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        var position = new LogPosition((ulong)commit, (ulong)prepare);
        return (rows.ToDictionary(r => (r.Sku, r.Location)), position, $"Compared with read.stock_levels at its checkpoint {position}.");
    }
}
