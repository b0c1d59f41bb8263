using Npgsql;
using Steller.Infrastructure.Postgres;
using Steller.Projections.Engine;

namespace Steller.Api.Health;

/// <summary>
/// /health/live: the process answers. /health/ready: the database answers, migrations are applied, every read model is
/// registered (its tables and views exist: on a fresh database each projection creates them a moment after the first node
/// starts, and a query before that is a 503), no projection is stopped (the events projections parked are listed, but do
/// not make it unready).
/// </summary>
public static class HealthEndpoints
{
    public sealed record Check(string Name, bool Ok, string Detail);
    public sealed record Report(string Status, IReadOnlyList<Check> Checks);

    public static void MapHealth(this IEndpointRouteBuilder app)
    {
        var health = app.MapGroup("/health").WithTags("Health");
        health.MapGet("/live", () => Results.Ok(new Report("live", [])))
            .WithSummary("Liveness: the process is up.");
        health.MapGet("/ready", async (NpgsqlDataSource db, Migrator migrator, ProjectionStore projections, IEnumerable<IProjection> readModels,
            CancellationToken ct) =>
            {
                var checks = new List<Check>();
                try
                {
                    await using var cmd = db.CreateCommand("select 1");
                    await cmd.ExecuteScalarAsync(ct);
                    checks.Add(new Check("database", true, "reachable"));
                    var pending = await migrator.Pending(ct);
                    checks.Add(new Check("migrations", pending.Count == 0, pending.Count == 0 ? "applied"
                        : $"pending: {string.Join(", ", pending)}"));
                    if (pending.Count == 0)
                    {
                        var unregistered = await projections.Unregistered(readModels.Select(p => p.Name).ToList(), ct);
                        checks.Add(new Check("read_models", unregistered.Count == 0, unregistered.Count == 0 ? "registered"
                            : $"not built yet: {string.Join(", ", unregistered)}"));
                    }
                    var stopped = await projections.FaultedProjections(ct);
                    checks.Add(new Check("projections", stopped.Count == 0, stopped.Count == 0 ? "none stopped"
                        : $"stopped: {string.Join(", ", stopped)}"));
                    // Parked events do not make the node unready (the read models go on); they are named so they get seen.
                    var parked = await projections.ParkedCounts(ct);
                    checks.Add(new Check("parked_events", true, parked.Count == 0 ? "none"
                        : string.Join(", ", parked.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}: {p.Value}"))));
                }
                catch (Exception e) when (e is NpgsqlException or TimeoutException)
                {
                    checks.Add(new Check("database", false, $"unreachable: {e.Message}"));
                }
                var ready = checks.All(c => c.Ok);
                return Results.Json(new Report(ready ? "ready" : "not_ready", checks), statusCode: ready ? 200 : 503);
            })
            .WithSummary("Readiness: database reachable, migrations applied, every read model registered, no projection stopped (parked events are listed).")
            .Produces<Report>(200).Produces<Report>(503);
    }
}
