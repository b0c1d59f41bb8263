using Npgsql;

namespace Steller.Infrastructure.Jobs;

/// <summary>For jobs that find their work in a read model.</summary>
public static class ReadModelJobs
{
    /// <summary>
    /// Runs one pass; on a first start the read model may not exist yet (its projection is still registering), which
    /// means "nothing to do yet" rather than an error: the next tick will find it.
    /// </summary>
    public static async Task PassWhenReady(Func<CancellationToken, Task> pass, CancellationToken ct)
    {
        try { await pass(ct); }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable) { }
    }
}
