using Dapper;
using Npgsql;
using Steller.Application.EventStore;

namespace Steller.Projections.Engine;

/// <summary>
/// A read model: events in, SQL out. The engine owns the transaction and writes the checkpoint in it,
/// so a batch is applied exactly once or not at all. Process managers (<see cref="IProcessManager"/>: events in,
/// commands out) ride the same engine through <see cref="ProcessManagerSubscription"/>.
/// </summary>
public interface IProjection
{
    /// <summary>Stable name, used for checkpoints and by `steller projections rebuild NAME`.</summary>
    string Name { get; }

    /// <summary>Shape version. Raising it makes the engine rebuild side by side and swap when caught up.</summary>
    int Version { get; }

    /// <summary>Event types this projection reads; null means every event. Others only move the checkpoint.</summary>
    IReadOnlySet<string>? EventTypes { get; }

    /// <summary>Tables it owns. Each is exposed to analysts as a view read.&lt;table&gt;.</summary>
    IReadOnlyList<string> Tables { get; }

    /// <summary>DDL creating its tables in <paramref name="schema"/> (a read_vN schema).</summary>
    string CreateTablesSql(string schema);

    /// <summary>
    /// What analysts read about each view read.&lt;table&gt; and its columns (COMMENT ON, applied with the views). Every table of
    /// a projection Steller ships has one (a test checks the live catalogue).
    /// </summary>
    IReadOnlyList<ReadViewDoc> Docs => [];

    /// <summary>Applies one batch (in log order) inside the engine's transaction.</summary>
    Task Apply(IReadOnlyList<RecordedEvent> events, ProjectionContext context);

    /// <summary>What the engine does with an event this projection cannot apply (see <see cref="OnPoisonEvent"/>).</summary>
    OnPoisonEvent OnPoison => OnPoisonEvent.Park;
}

/// <summary>
/// The failure policy: a batch that fails is retried event by event to find the event that fails alone (the poison).
/// </summary>
public enum OnPoisonEvent
{
    /// <summary>Record the event in steller.projection_parked, alert, and go on with the next one.</summary>
    Park,
    /// <summary>Stop at the event and alert; retry from the checkpoint with backoff until it applies (financial read models:
    /// a wrong balance is worse than a stale one; process managers: skipping one would lose its command).</summary>
    Stop,
}

/// <summary>Where a batch is applied: the engine's connection and transaction, and the schema of this generation.</summary>
public sealed class ProjectionContext(NpgsqlConnection connection, NpgsqlTransaction transaction, string schema, CancellationToken ct)
{
    public NpgsqlConnection Connection { get; } = connection;
    public NpgsqlTransaction Transaction { get; } = transaction;
    /// <summary>The read_vN schema this generation writes to.</summary>
    public string Schema { get; } = schema;
    public CancellationToken CancellationToken { get; } = ct;

    /// <summary>Runs SQL with "{schema}" replaced by this generation's schema; text parameters through <see cref="PgText"/>.</summary>
    public Task<int> Execute(string sql, object? parameters = null) =>
        Connection.ExecuteAsync(new CommandDefinition(sql.Replace("{schema}", Schema), PgText.Parameters(parameters), Transaction,
            cancellationToken: CancellationToken));

    /// <summary>Queries with "{schema}" replaced by this generation's schema; text parameters through <see cref="PgText"/>.</summary>
    public Task<IEnumerable<T>> Query<T>(string sql, object? parameters = null) =>
        Connection.QueryAsync<T>(new CommandDefinition(sql.Replace("{schema}", Schema), PgText.Parameters(parameters), Transaction,
            cancellationToken: CancellationToken));
}
