using Dapper;
using FluentAssertions;
using NUnit.Framework;
using Steller.Application.EventStore;
using Steller.Testing;

namespace Steller.Cli.Tests;

/// <summary>Kill -9 the process that runs projections while it is applying batches; restart; nothing lost or doubled.</summary>
public sealed class ProcessCrashTests
{
    [Test, CancelAfter(180_000)]
    public async Task killing_the_projection_process_mid_catch_up_neither_loses_nor_doubles_an_event()
    {
        await using var db = await TestDatabase.Create("kill");
        var store = db.CreateEventStore();
        const int streams = 100, perStream = 200;
        await Task.WhenAll(Enumerable.Range(0, streams).Select(async s =>
        {
            for (var i = 0; i < perStream; i += 20) await store.Append($"acct-{s}", ExpectedRevision.Any, Events.Many(20));
        }));
        var env = new Dictionary<string, string?>
        {
            ["STELLER__Database__ConnectionString"] = db.ConnectionString,
            ["STELLER__Projections__BatchSize"] = "50",
        };

        var kills = 0;
        for (var round = 0; round < 3; round++)
        {
            using var runner = StellerProcess.Cli(env, "projections", "run");
            // Wait until it is part-way through, then kill it without warning.
            var target = (round + 1) * 4_000;
            await Eventually.True(async () => await Applied(db) >= target || runner.HasExited, TimeSpan.FromSeconds(60), $"the runner applied {target} events");
            runner.HasExited.Should().BeFalse(runner.Stderr);
            runner.Kill();
            kills++;
        }
        (await Applied(db)).Should().BeLessThan(streams * perStream, "the kills must land before the end, or the test proves nothing");

        using var last = StellerProcess.Cli(env, "projections", "run");
        await Eventually.True(async () => await Applied(db) == streams * perStream, TimeSpan.FromSeconds(60), "the restarted runner finished");
        last.Kill();

        kills.Should().Be(3);
        await using var conn = await db.DataSource.OpenConnectionAsync();
        var rows = (await conn.QueryAsync<(string Stream, long Events, long Last)>("select stream_id, events, last_revision from read.stream_stats")).ToList();
        rows.Should().HaveCount(streams);
        rows.Should().OnlyContain(r => r.Events == perStream && r.Last == perStream - 1);
    }

    private static async Task<long> Applied(TestDatabase db) =>
        await db.Scalar<long>("select coalesce(max(events_applied), 0) from steller.projection_checkpoints where name = 'stream_stats'");
}
