using FluentAssertions;
using Npgsql;
using NUnit.Framework;
using Steller.Application.EventStore;
using Steller.Infrastructure.Postgres;
using Steller.Testing;

namespace Steller.Infrastructure.Tests.Postgres;

/// <summary>
/// A group commits through es.append_many (migration 0024): one statement for the whole group. Every append of the
/// group must get exactly the outcome it gets when committed alone through es.append.
/// </summary>
public sealed class AppendManyTests
{
    private sealed record Step(string Stream, ExpectedRevision Expected, EventData[] Events);

    [Test, CancelAfter(120_000)]
    public async Task a_group_in_one_statement_gives_every_append_the_outcome_it_gets_alone()
    {
        await using var db = await TestDatabase.Create("appendmany");
        var store = db.CreateEventStore(new PostgresEventStoreOptions { MaxConcurrentCommits = 1 });
        var (existing, stale, quiet) = (Events.Many(2), Events.Many(1), Events.Many(1));
        var idem = Events.Many(2);
        var partial = Events.Many(2);
        var repeated = Events.Make();
        foreach (var side in new[] { "alone", "group" })
        {
            await store.Append($"{side}-existing", ExpectedRevision.NoStream, existing);
            await store.Append($"{side}-stale", ExpectedRevision.NoStream, stale);
            await store.Append($"{side}-quiet", ExpectedRevision.NoStream, quiet);
            await store.Append($"{side}-idem", ExpectedRevision.NoStream, idem);
            await store.Append($"{side}-partial", ExpectedRevision.NoStream, [partial[0]]);
        }
        // One set of events for both sides: event ids are unique per stream, and the two sides' streams differ by prefix.
        (string Stream, ExpectedRevision Expected, EventData[] Events)[] steps =
        [
            ("new", ExpectedRevision.NoStream, Events.Many(2)),
            ("any", ExpectedRevision.Any, Events.Many(1)),
            ("existing", ExpectedRevision.Exact(1), Events.Many(3)),
            ("quiet", ExpectedRevision.Exact(4), Events.Many(1)),        // wrong revision of an existing stream
            ("idem", ExpectedRevision.Any, idem),                        // stored already: the same append again
            ("partial", ExpectedRevision.Any, partial),                  // one of two stored: not the same append
            ("missing", ExpectedRevision.StreamExists, Events.Many(1)),
            ("missing-exact", ExpectedRevision.Exact(0), Events.Many(1)),
            ("stale", ExpectedRevision.NoStream, Events.Many(1)),
            ("empty-new", ExpectedRevision.NoStream, []),
            ("quiet", ExpectedRevision.Any, []),
            ("twice", ExpectedRevision.NoStream, Events.Many(1)),        // two appends to one stream in one group:
            ("twice", ExpectedRevision.Exact(0), Events.Many(2)),        // the second sees the first
            ("dup", ExpectedRevision.Any, [repeated]),
            ("dup", ExpectedRevision.Any, [repeated]),
        ];
        Step[] Scenario(string side) => steps.Select(s => new Step($"{side}-{s.Stream}", s.Expected, s.Events)).ToArray();

        var alone = new List<string>();
        foreach (var step in Scenario("alone")) alone.Add(await Outcome(store.Append(step.Stream, step.Expected, step.Events)));

        // Hold a stream's row so the one committer waits inside es.append; everything appended meanwhile queues and then
        // commits as one group.
        await store.Append("blocker", ExpectedRevision.NoStream, Events.Many(1));
        var before = await db.Scalar<long>("select max(position) from es.events");
        await using var holder = await db.DataSource.OpenConnectionAsync();
        await using var hold = await holder.BeginTransactionAsync();
        await using (var lockRow = new NpgsqlCommand("select 1 from es.streams where stream_id = 'blocker' for update", holder, hold))
            await lockRow.ExecuteNonQueryAsync();
        var blocked = store.Append("blocker", ExpectedRevision.Any, Events.Many(1));
        await Task.Delay(300);
        var grouped = Scenario("group").Select(step => Outcome(store.Append(step.Stream, step.Expected, step.Events))).ToList();
        await hold.CommitAsync();
        await blocked;
        var together = await Task.WhenAll(grouped);

        together.Should().Equal(alone, "each append of the group gets the outcome it got alone");
        (await db.Scalar<long>($"select count(distinct transaction_id) from es.events where stream_id like 'group-%' and position > {before}"))
            .Should().Be(1, "the whole scenario committed as one group");
        store.GroupsRetriedAlone.Should().Be(0);
        (await Contents(db, "group")).Should().Equal(await Contents(db, "alone"), "the streams and their events are the same");
        alone.Should().Equal("ok 1", "ok 0", "ok 4", "WrongExpectedRevision 0", "ok 1", "WrongExpectedRevision 0", "WrongExpectedRevision -1",
            "WrongExpectedRevision -1", "WrongExpectedRevision 0", "ok -1", "ok 0", "ok 0", "ok 2", "ok 0", "ok 0");
    }

    [Test, CancelAfter(120_000)]
    public async Task the_position_of_an_idempotent_repeat_is_the_position_of_the_stored_event()
    {
        await using var db = await TestDatabase.Create("appendmanyidem");
        var store = db.CreateEventStore(new PostgresEventStoreOptions { MaxConcurrentCommits = 1 });
        var streams = Enumerable.Range(0, 50).Select(_ => Events.Stream("r")).ToList();
        var batches = streams.Select(_ => Events.Many(2)).ToList();
        var first = await Task.WhenAll(streams.Select((s, i) => store.Append(s, ExpectedRevision.NoStream, batches[i])));

        var again = await Task.WhenAll(streams.Select((s, i) => store.Append(s, ExpectedRevision.Any, batches[i])));

        again.Should().Equal(first, "a repeat answers the revision and log position of what was stored");
        (await db.Scalar<long>("select count(*) from es.events")).Should().Be(100);
    }

    [Test, CancelAfter(300_000)]
    public async Task hundreds_of_writers_on_overlapping_streams_keep_every_revision_exact_and_never_deadlock()
    {
        await using var db = await TestDatabase.Create("appendmanyoverlap");
        var store = db.CreateEventStore();
        var streams = Enumerable.Range(0, 40).Select(i => $"o-{i:D2}-{(i % 3 == 0 ? "\uE000" : i % 3 == 1 ? "\U0001F600" : "z")}").ToArray();

        // 300 writers, 20 appends each, to random streams: groups overlap on every stream, in both commit slots.
        var counts = new int[streams.Length];
        await Task.WhenAll(Enumerable.Range(0, 300).Select(w => Task.Run(async () =>
        {
            var random = new Random(w);
            for (var k = 0; k < 20; k++)
            {
                var s = random.Next(streams.Length);
                var n = 1 + random.Next(3);
                Interlocked.Add(ref counts[s], n);
                await store.Append(streams[s], ExpectedRevision.Any, Events.Many(n));
            }
        })));

        for (var s = 0; s < streams.Length; s++)
        {
            var read = await store.ReadStream(streams[s]);
            read.Events.Select(e => e.Revision.Value).Should().Equal(Enumerable.Range(0, counts[s]).Select(r => (long)r),
                $"stream {s} has every appended event once, at consecutive revisions");
        }
        store.GroupsRetriedAlone.Should().Be(0, "groups lock streams in one order, so none deadlocks and is retried");
    }

    [Test, CancelAfter(60_000)]
    public async Task code_point_order_is_the_order_postgresql_sorts_stream_ids_in()
    {
        await using var db = await TestDatabase.Create("codepoints");
        string[] ids = ["b", "a", "\uE000x", "\U0001F600", "\uFFFF", "A", "ä", "a\U0001F600", "a\uFFFD", "ab", "", "\uD7FF"];
        await using var cmd = db.DataSource.CreateCommand("select x from unnest($1::text[]) x order by x collate \"C\"");
        cmd.Parameters.Add(new NpgsqlParameter { Value = ids });
        var database = new List<string>();
        await using (var reader = await cmd.ExecuteReaderAsync())
            while (await reader.ReadAsync()) database.Add(reader.GetString(0));

        ids.Order(CodePointOrder.Instance).Should().Equal(database);
        ids.Order(StringComparer.Ordinal).Should().NotEqual(database, "UTF-16 order puts U+E000..U+FFFF after the characters beyond U+FFFF");
    }

    private static async Task<string> Outcome(Task<AppendResult> append)
    {
        try
        {
            var r = await append;
            return $"ok {r.CurrentRevision.Value}";
        }
        catch (WrongExpectedRevisionException e) { return $"WrongExpectedRevision {e.ActualRevision?.Value ?? -1}"; }
        catch (Exception e) { return e.GetType().Name; }
    }

    /// <summary>Every stream of one side with its revision and its events' revisions, ids and types, side prefix removed.</summary>
    private static async Task<List<string>> Contents(TestDatabase db, string side)
    {
        await using var cmd = db.DataSource.CreateCommand("""
            select substr(s.stream_id, length($1) + 2) || ' @' || s.revision || ': '
                   || coalesce(string_agg(e.revision || ' ' || e.event_id || ' ' || e.event_type, ', ' order by e.revision), '')
              from es.streams s left join es.events e on e.stream_id = s.stream_id
             where s.stream_id like $1 || '-%'
             group by s.stream_id, s.revision order by 1
            """);
        cmd.Parameters.AddWithValue(side);
        var rows = new List<string>();
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync()) rows.Add(reader.GetString(0));
        return rows;
    }
}
