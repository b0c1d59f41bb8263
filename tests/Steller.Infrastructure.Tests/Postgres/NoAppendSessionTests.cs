using FluentAssertions;
using Npgsql;
using NUnit.Framework;
using Steller.Application.EventStore;
using Steller.Infrastructure.Postgres;
using Steller.Testing;

namespace Steller.Infrastructure.Tests.Postgres;

/// <summary>
/// Sessions marked as never appending (<see cref="NoAppendDataSource"/>, migration 0021): they cannot append, readers of the
/// log stop waiting for their long transactions once those are announced, and the log still never skips an event.
/// </summary>
public sealed class NoAppendSessionTests
{
    private static async Task<(NpgsqlConnection Conn, ulong Xid)> WriteTransactionOpen(NpgsqlDataSource source)
    {
        var conn = await source.OpenConnectionAsync();
        await using var begin = new NpgsqlCommand("begin; select pg_current_xact_id()::text;", conn); // holds a transaction id
        return (conn, ulong.Parse((string)(await begin.ExecuteScalarAsync())!));
    }

    private static async Task<IReadOnlyList<RecordedEvent>> ReadWithin(IEventStore store, TimeSpan within, int expected)
    {
        var until = DateTime.UtcNow + within;
        while (true)
        {
            var events = await store.ReadAll(LogPosition.Start, 10);
            if (events.Count >= expected || DateTime.UtcNow > until) return events;
            await Task.Delay(5);
        }
    }

    [Test]
    public async Task a_long_write_transaction_of_a_session_marked_never_appending_stops_holding_readers_back_once_announced()
    {
        await using var db = await TestDatabase.Create("noappendopen");
        await using var marked = new NoAppendDataSource(NpgsqlDataSource.Create(NoAppendDataSource.Mark(db.ConnectionString)));
        var store = db.CreateEventStore();

        var (open, xid) = await WriteTransactionOpen(marked.DataSource);
        await using var _ = open;
        var e = Events.Make("test.after-read-model-batch.v1");
        await store.Append(Events.Stream(), ExpectedRevision.NoStream, [e]);
        (await store.ReadAll(LogPosition.Start, 10)).Should().BeEmpty("not announced yet, it holds readers back as any transaction");

        using var announced = NoAppendDataSource.AnnounceIfLong(marked.DataSource, xid);
        announced.Should().NotBeNull();
        (await ReadWithin(store, TimeSpan.FromSeconds(5), 1)).Select(x => x.EventId).Should().Equal([e.EventId],
            "an announced transaction of a marked session can never add an event below it");
    }

    [Test]
    public async Task a_transaction_that_ends_before_it_is_due_is_never_announced()
    {
        await using var db = await TestDatabase.Create("noappendshort");
        await using var marked = new NoAppendDataSource(NpgsqlDataSource.Create(NoAppendDataSource.Mark(db.ConnectionString)));

        var (open, xid) = await WriteTransactionOpen(marked.DataSource);
        await using (open)
        using (NoAppendDataSource.AnnounceIfLong(marked.DataSource, xid))
        await using (var commit = new NpgsqlCommand("commit", open)) await commit.ExecuteNonQueryAsync();
        await Task.Delay(NoAppendDataSource.AnnounceAfter * 5);

        await using var count = db.DataSource.CreateCommand("select count(*) from es.never_appending");
        ((long)(await count.ExecuteScalarAsync())!).Should().Be(0);
    }

    [Test]
    public async Task an_open_write_transaction_of_any_other_session_still_holds_readers_back_until_it_ends_and_cannot_be_announced()
    {
        await using var db = await TestDatabase.Create("noappendother");
        var store = db.CreateEventStore();

        var (open, xid) = await WriteTransactionOpen(db.DataSource);
        await using var _ = open;
        NoAppendDataSource.AnnounceIfLong(db.DataSource, xid).Should().BeNull("only a session the trigger refuses appends may be left out");
        var e = Events.Make("test.behind-unknown-writer.v1");
        await store.Append(Events.Stream(), ExpectedRevision.NoStream, [e]);

        (await ReadWithin(store, TimeSpan.FromMilliseconds(300), 1)).Should().BeEmpty("an unmarked session's transaction may still append below it");
        await using (var commit = new NpgsqlCommand("commit", open)) await commit.ExecuteNonQueryAsync();
        (await store.ReadAll(LogPosition.Start, 10)).Select(x => x.EventId).Should().Equal(e.EventId);
    }

    [Test]
    public async Task a_session_marked_never_appending_is_refused_an_append_and_nothing_is_written()
    {
        await using var db = await TestDatabase.Create("noappendrefused");
        await using var marked = new NoAppendDataSource(NpgsqlDataSource.Create(NoAppendDataSource.Mark(db.ConnectionString)));
        await using var notifications = new LogNotifications(marked.DataSource, Microsoft.Extensions.Logging.Abstractions.NullLogger<LogNotifications>.Instance);
        var wrong = new PostgresEventStore(marked.DataSource, notifications);

        var append = () => wrong.Append(Events.Stream(), ExpectedRevision.Any, [Events.Make("test.refused.v1")]);

        (await append.Should().ThrowAsync<PostgresException>()).Which.SqlState.Should().Be("42501");
        (await db.CreateEventStore().ReadAll(LogPosition.Start, 10)).Should().BeEmpty();
    }

    [Test]
    public void marking_a_connection_string_keeps_its_application_name_and_other_options_and_is_idempotent()
    {
        var once = new NpgsqlConnectionStringBuilder(NoAppendDataSource.Mark("Host=127.0.0.1;Application Name=node-a;Options=-c statement_timeout=5000"));
        once.ApplicationName.Should().Be("node-a", "operators and the cluster status find a node's sessions by its name");
        once.Options.Should().Be("-c statement_timeout=5000 -c steller.never_appends=on");
        new NpgsqlConnectionStringBuilder(NoAppendDataSource.Mark(once.ConnectionString)).Options.Should().Be(once.Options);
    }

    [Test, CancelAfter(240_000)]
    public async Task the_subscriber_still_sees_every_committed_event_exactly_once_while_marked_sessions_churn_write_transactions(
        CancellationToken ct)
    {
        await using var db = await TestDatabase.Create("noappendgap");
        await using var marked = new NoAppendDataSource(NpgsqlDataSource.Create(NoAppendDataSource.Mark(db.ConnectionString)));
        var harness = new GapHarness(db, db.CreateEventStore());

        // Read-model-like sessions: short and long (announced) write transactions, all the time, beside 16 appenders that delay
        // their commits at random and roll some back. The horizon leaves the announced ones out; the appenders must still be
        // waited for.
        using var stopChurn = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var churners = Enumerable.Range(0, 6).Select(i => Task.Run(async () =>
        {
            var churned = 0;
            while (!stopChurn.IsCancellationRequested)
            {
                // As a read-model batch does: take an id, announce it if it runs long, end it.
                var (conn, xid) = await WriteTransactionOpen(marked.DataSource);
                await using (conn)
                using (NoAppendDataSource.AnnounceIfLong(marked.DataSource, xid))
                await using (var cmd = new NpgsqlCommand(
                    $"select pg_sleep({(i % 3 == 0 ? 0.05 : 0.002).ToString(System.Globalization.CultureInfo.InvariantCulture)}); commit;", conn))
                    await cmd.ExecuteNonQueryAsync(CancellationToken.None);
                churned++;
            }
            return churned;
        })).ToArray();

        var announcedBefore = NoAppendDataSource.AnnouncedCount;
        var writers = harness.Write(16, 1_000);
        var seen = await GapHarness.Follow(harness.Subscription(ct), writers, ct);
        stopChurn.Cancel();
        var churned = (await Task.WhenAll(churners)).Sum();

        var report = harness.Check(seen);
        TestContext.Out.WriteLine($"with {churned} marked write transactions beside: {report}");
        churned.Should().BeGreaterThan(100, "the marked sessions must really have run write transactions meanwhile");
        (NoAppendDataSource.AnnouncedCount - announcedBefore).Should().BeGreaterThan(0, "the long ones must really have been announced");
        harness.RolledBack.Should().NotBeEmpty();
        report.Clean.Should().BeTrue(report.ToString());
        report.Seen.Should().Be(report.Committed);
    }
}
