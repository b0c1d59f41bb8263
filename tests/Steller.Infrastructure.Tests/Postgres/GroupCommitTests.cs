using FluentAssertions;
using Npgsql;
using NUnit.Framework;
using Steller.Application.EventStore;
using Steller.Testing;

namespace Steller.Infrastructure.Tests.Postgres;

/// <summary>
/// Group commit: appends to different streams that queue while a commit is in flight share the next transaction, and
/// each keeps its own outcome — a neighbour's conflict or failure never fails it.
/// </summary>
public sealed class GroupCommitTests
{
    [Test, CancelAfter(120_000)]
    public async Task appends_to_many_streams_arriving_together_share_transactions_and_each_gets_its_own_revision()
    {
        await using var db = await TestDatabase.Create("group");
        var store = db.CreateEventStore();
        var streams = Enumerable.Range(0, 500).Select(_ => Events.Stream("g")).ToList();

        var results = await Task.WhenAll(streams.Select(s => store.Append(s, ExpectedRevision.NoStream, [Events.Make()])));

        results.Should().OnlyContain(r => r.CurrentRevision.Value == 0);
        var transactions = await db.Scalar<long>("select count(distinct transaction_id) from es.events");
        TestContext.Out.WriteLine($"500 appends committed in {transactions} transactions");
        transactions.Should().BeLessThan(500, "appends that queued behind a commit share the next one");
        (await db.Scalar<long>("select count(*) from es.events")).Should().Be(500);
        var all = await store.ReadAll(LogPosition.Start, 1_000);
        all.Select(e => e.StreamId).Should().BeEquivalentTo(streams, "every append is in the log exactly once");
    }

    [Test, CancelAfter(120_000)]
    public async Task a_wrong_expected_revision_fails_only_its_own_append()
    {
        await using var db = await TestDatabase.Create("groupconflict");
        var store = db.CreateEventStore();
        var good = Enumerable.Range(0, 200).Select(_ => Events.Stream("ok")).ToList();
        var stale = Enumerable.Range(0, 40).Select(_ => Events.Stream("stale")).ToList();

        var appends = good.Select(s => Outcome(store.Append(s, ExpectedRevision.NoStream, [Events.Make()])))
            .Concat(stale.Select(s => Outcome(store.Append(s, ExpectedRevision.Exact(5), [Events.Make()]))))
            .ToList();
        var outcomes = await Task.WhenAll(appends);

        outcomes.Take(200).Should().OnlyContain(o => o == "ok");
        outcomes.Skip(200).Should().OnlyContain(o => o == nameof(WrongExpectedRevisionException));
        (await db.Scalar<long>("select count(*) from es.events")).Should().Be(200);
        (await db.Scalar<long>("select count(*) from es.streams where stream_id like 'stale-%'")).Should().Be(0, "a refused append creates no stream");
    }

    [Test, CancelAfter(120_000)]
    public async Task an_append_the_database_refuses_fails_alone_while_its_group_commits()
    {
        await using var db = await TestDatabase.Create("groupfailure");
        var store = db.CreateEventStore();
        var good = Enumerable.Range(0, 300).Select(_ => Events.Stream("ok")).ToList();
        var poison = Events.Stream("poison");

        // PostgreSQL refuses a NUL in text: this append passes the store's own checks but breaks its transaction.
        var appends = good.Take(150).Select(s => Outcome(store.Append(s, ExpectedRevision.NoStream, [Events.Make()])))
            .Append(Outcome(store.Append(poison, ExpectedRevision.NoStream, [Events.Make(type: "bad\0type")])))
            .Concat(good.Skip(150).Select(s => Outcome(store.Append(s, ExpectedRevision.NoStream, [Events.Make()]))))
            .ToList();
        var outcomes = await Task.WhenAll(appends);

        outcomes.Count(o => o == "ok").Should().Be(300);
        outcomes[150].Should().NotBe("ok");
        (await db.Scalar<long>("select count(*) from es.events")).Should().Be(300);
        (await db.Scalar<long>($"select count(*) from es.streams where stream_id = '{poison}'")).Should().Be(0);
    }

    [Test, CancelAfter(120_000)]
    public async Task the_same_event_appended_twice_at_once_is_stored_once()
    {
        await using var db = await TestDatabase.Create("groupidem");
        var store = db.CreateEventStore();
        var stream = Events.Stream("idem");
        var e = Events.Make();
        var noise = Enumerable.Range(0, 100).Select(_ => store.Append(Events.Stream("n"), ExpectedRevision.NoStream, [Events.Make()]));

        var twice = await Task.WhenAll(store.Append(stream, ExpectedRevision.Any, [e]), store.Append(stream, ExpectedRevision.Any, [e]));
        await Task.WhenAll(noise);

        twice.Select(r => r.CurrentRevision.Value).Should().Equal(0, 0);
        (await store.ReadStream(stream)).Events.Should().ContainSingle();
    }

    private static async Task<string> Outcome(Task<AppendResult> append)
    {
        try { await append; return "ok"; }
        catch (Exception e) { return e.GetType().Name; }
    }
}
