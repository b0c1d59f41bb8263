using Steller.Application.EventStore;
using Steller.Projections.Engine;

namespace Steller.Projections.Tests;

/// <summary>
/// A test read model: per stream, how many events and the sum of their "n". Its hooks let tests break a batch
/// after its rows are written and before the engine commits (throwing, or killing the connection), or refuse
/// a "poison" event until told otherwise.
/// </summary>
public sealed class CountingProjection(string name = "counting", int version = 1, bool withExtraColumn = false) : IProjection
{
    public string Name => name;
    public int Version => version;
    public IReadOnlySet<string>? EventTypes { get; } = new HashSet<string> { "test.counted.v1", "test.poison.v1" };
    public IReadOnlyList<string> Tables => [$"{name}_counts"];

    /// <summary>Chance that a batch crashes after writing its rows (only on the first try of that batch).</summary>
    public double CrashChance { get; set; }
    public int Crashes;
    public bool Poisoned { get; set; }
    /// <summary>Stop by default: the crashes it simulates are the moment's, not an event's, so nothing may be parked.</summary>
    public OnPoisonEvent OnPoison { get; set; } = OnPoisonEvent.Stop;
    private readonly HashSet<LogPosition> crashedOnce = [];
    private readonly Random random = new(42);

    public string CreateTablesSql(string schema) => $"""
        create table {schema}.{name}_counts (
            stream_id text primary key,
            events    bigint not null,
            sum_n     bigint not null
            {(withExtraColumn ? ", added_in_v2 text not null default 'yes'" : "")}
        );
        """;

    public async Task Apply(IReadOnlyList<RecordedEvent> events, ProjectionContext context)
    {
        if (Poisoned && events.Any(e => e.Type == "test.poison.v1"))
            throw new InvalidOperationException("poison event refused");

        var folded = events.GroupBy(e => e.StreamId).Select(g => (Stream: g.Key, Count: (long)g.Count(), Sum: g.Sum(e => e.Type == "test.poison.v1" ? 0 : ProjectionHarness.N(e)))).ToArray();
        await context.Execute($"""
            insert into {"{schema}"}.{name}_counts as c (stream_id, events, sum_n)
            select * from unnest(@streams, @counts, @sums)
            on conflict (stream_id) do update set events = c.events + excluded.events, sum_n = c.sum_n + excluded.sum_n
            """, new { streams = folded.Select(f => f.Stream).ToArray(), counts = folded.Select(f => f.Count).ToArray(), sums = folded.Select(f => f.Sum).ToArray() });

        bool crash;
        lock (crashedOnce) crash = random.NextDouble() < CrashChance && crashedOnce.Add(events[0].Position);
        if (!crash) return;
        var n = Interlocked.Increment(ref Crashes);
        if (n % 2 == 0)
        {
            // The connection dies mid-transaction, as when the database restarts or the network drops.
            await using var killer = new Npgsql.NpgsqlCommand("select pg_terminate_backend(pg_backend_pid())", context.Connection, context.Transaction);
            await killer.ExecuteNonQueryAsync();
        }
        throw new SimulatedCrash();
    }
}

public sealed class SimulatedCrash() : Exception("simulated crash between the batch and its commit");
