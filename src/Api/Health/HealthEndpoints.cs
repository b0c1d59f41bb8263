using Npgsql;
using Steller.Infrastructure.Postgres;
using Steller.Projections.Engine;

namespace Steller.Api.Health;

/// <summary>
/// /health/live: the process answers. /health/ready: the database answers, migrations are applied, no projection is faulted.
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
        health.MapGet("/ready", async (NpgsqlDataSource db, Migrator migrator, ProjectionStore projections, CancellationToken ct) =>
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
                    var faulted = await projections.FaultedProjections(ct);
                    checks.Add(new Check("projections", faulted.Count == 0, faulted.Count == 0 ? "none faulted"
                        : $"faulted: {string.Join(", ", faulted)}"));
                }
                catch (Exception e) when (e is NpgsqlException or TimeoutException)
                {
                    checks.Add(new Check("database", false, $"unreachable: {e.Message}"));
                }
                var ready = checks.All(c => c.Ok);
                return Results.Json(new Report(ready ? "ready" : "not_ready", checks), statusCode: ready ? 200 : 503);
            })
            .WithSummary("Readiness: database reachable, migrations applied, no projection faulted.")
            .Produces<Report>(200).Produces<Report>(503);
    }
}
