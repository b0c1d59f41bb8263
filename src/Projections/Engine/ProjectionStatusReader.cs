using Dapper;
using Steller.Application.EventStore;

namespace Steller.Projections.Engine;

public sealed record ProjectionStatus(
    string Name,
    int CodeVersion,
    int? StoredVersion,
    int? Generation,
    string Position,
    long EventsApplied,
    long? EventsBehind,
    double? LagSeconds,
    string State,
    string? Error,
    int? RebuildingGeneration,
    long Parked = 0,
    string Policy = "park");

/// <summary>Reads every projection's status from the database, so it is the same from any node or the CLI.</summary>
public sealed class ProjectionStatusReader(ProjectionStore bookkeeping, IEventStore store, IEnumerable<IProjection> projections)
{
    internal sealed record Row(string Name, int Generation, int CodeVersion, long Commit, long Prepare, long Applied,
        DateTime? LastEventAt, string? Error, int? Rebuilding);

    public async Task<IReadOnlyList<ProjectionStatus>> Read(CancellationToken ct)
    {
        await using var conn = await bookkeeping.DataSource.OpenConnectionAsync(ct);
        var rows = (await conn.QueryAsync<Row>(new CommandDefinition("""
            select p.name as Name, p.active_generation as Generation, p.code_version as CodeVersion,
                   c.commit_position as Commit, c.prepare_position as Prepare, c.events_applied as Applied,
                   c.last_event_at as LastEventAt, f.error as Error,
                   (select max(n.generation) from steller.projection_checkpoints n where n.name = p.name and n.generation > p.active_generation) as Rebuilding
              from steller.projections p
              join steller.projection_checkpoints c on c.name = p.name and c.generation = p.active_generation
              left join steller.projection_faults f on f.name = p.name
            """, cancellationToken: ct))).ToDictionary(r => r.Name);

        var parked = await bookkeeping.ParkedCounts(ct);
        var result = new List<ProjectionStatus>();
        foreach (var projection in projections.OrderBy(p => p.Name))
        {
            if (!rows.TryGetValue(projection.Name, out var row))
            {
                result.Add(new ProjectionStatus(projection.Name, projection.Version, null, null, LogPosition.Start.ToString(), 0, null, null, "not started", null, null,
                    parked.GetValueOrDefault(projection.Name), Policy(projection)));
                continue;
            }
            var position = new LogPosition((ulong)row.Commit, (ulong)row.Prepare);
            long? behind = store is IEventLogStatistics stats ? await stats.CountAfter(position, ct) : null;
            double? lag = null;
            if (behind is > 0)
            {
                var next = await store.ReadAll(position, 1, ct);
                lag = next.Count == 1 ? Math.Max(0, (DateTimeOffset.UtcNow - next[0].Metadata.RecordedAt).TotalSeconds) : 0;
            }
            else if (behind == 0) lag = 0;
            // Stopped: at its checkpoint, retrying with backoff (a poison event for a "stop" projection, or a failing database).
            var state = row.Error is not null ? "stopped"
                : row.Rebuilding is not null ? "rebuilding"
                : row.CodeVersion != projection.Version ? "outdated"
                : behind is > 0 ? "catching up"
                : "live";
            result.Add(new ProjectionStatus(projection.Name, projection.Version, row.CodeVersion, row.Generation, position.ToString(),
                row.Applied, behind, lag, state, row.Error, row.Rebuilding, parked.GetValueOrDefault(projection.Name), Policy(projection)));
        }
        return result;
    }

    private static string Policy(IProjection projection) => projection.OnPoison == OnPoisonEvent.Stop ? "stop" : "park";
}
