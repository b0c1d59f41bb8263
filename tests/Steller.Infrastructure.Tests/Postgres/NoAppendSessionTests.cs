using FluentAssertions;
using Npgsql;
using NUnit.Framework;
using Steller.Application.EventStore;
using Steller.Infrastructure.Postgres;
using Steller.Testing;

namespace Steller.Infrastructure.Tests.Postgres;

/// <summary>
/// Sessions marked as never appending (<see cref="NoAppendDataSource"/>, migration 0021): readers of the log do not wait
/// for their transactions, they cannot append, and the log still never skips an event.
/// </summary>
public sealed class NoAppendSessionTests
{
    private static async Task<NpgsqlConnection> WriteTransactionOpen(NpgsqlDataSource source)
    {
        var conn = await source.OpenConnectionAsync();
        await using var begin = new NpgsqlCommand("begin; select pg_current_xact_id();", conn); // holds a transaction id
        await begin.ExecuteNonQueryAsync();
        return conn;
    }

    [Test]
    public async Task an_open_write_transaction_of_a_session_marked_never_appending_does_not_hold_readers_back()
    {
        await using var db = await TestDatabase.Create("noappendopen");
        await using var marked = new NoAppendDataSource(NpgsqlDataSource.Create(NoAppendDataSource.Mark(db.ConnectionString)));
        var store = db.CreateEventStore();

        await using var open = await WriteTransactionOpen(marked.DataSource);
        var e = Events.Make("test.after-read-model-batch.v1");
        await store.Append(Events.Stream(), ExpectedRevision.NoStream, [e]);

        (await store.ReadAll(LogPosition.Start, 10)).Select(x => x.EventId).Should().Equal([e.EventId],
            "the marked session's transaction can never add an event below it");
    }

    [Test]
    public async Task an_open_write_transaction_of_any_other_session_still_holds_readers_back_until_it_ends()
    {
        await using var db = await TestDatabase.Create("noappendother");
        var store = db.CreateEventStore();

        await using var open = await WriteTransactionOpen(db.DataSource);
        var e = Events.Make("test.behind-unknown-writer.v1");
        await store.Append(Events.Stream(), ExpectedRevision.NoStream, [e]);

        (await store.ReadAll(LogPosition.Start, 10)).Should().BeEmpty("an unmarked session's transaction may still append below it");
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
    public void marking_a_connection_string_keeps_its_name_readable_and_is_idempotent()
    {
        var once = NoAppendDataSource.Mark("Host=127.0.0.1;Application Name=api");
        new NpgsqlConnectionStringBuilder(once).ApplicationName.Should().Be("steller-no-append:api");
        new NpgsqlConnectionStringBuilder(NoAppendDataSource.Mark(once)).ApplicationName.Should().Be("steller-no-append:api");
    }

    [Test, CancelAfter(240_000)]
    public async Task the_subscriber_still_sees_every_committed_event_exactly_once_while_marked_sessions_churn_write_transactions(
        CancellationToken ct)
    {
        await using var db = await TestDatabase.Create("noappendgap");
        await using var marked = new NoAppendDataSource(NpgsqlDataSource.Create(NoAppendDataSource.Mark(db.ConnectionString)));
        var harness = new GapHarness(db, db.CreateEventStore());

        // Read-model-like sessions: short and long write transactions, all the time, beside 16 appenders that delay their
        // commits at random and roll some back. The horizon leaves the marked ones out; the appenders must still be waited for.
        using var stopChurn = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var churners = Enumerable.Range(0, 6).Select(i => Task.Run(async () =>
        {
            var churned = 0;
            while (!stopChurn.IsCancellationRequested)
            {
                await using var conn = await marked.DataSource.OpenConnectionAsync(CancellationToken.None);
                await using var cmd = new NpgsqlCommand(
                    $"begin; select pg_current_xact_id(); select pg_sleep({(i % 3 == 0 ? 0.05 : 0.002).ToString(System.Globalization.CultureInfo.InvariantCulture)}); commit;", conn);
                await cmd.ExecuteNonQueryAsync(CancellationToken.None);
                churned++;
            }
            return churned;
        })).ToArray();

        var writers = harness.Write(16, 1_000);
        var seen = await GapHarness.Follow(harness.Subscription(ct), writers, ct);
        stopChurn.Cancel();
        var churned = (await Task.WhenAll(churners)).Sum();

        var report = harness.Check(seen);
        TestContext.Out.WriteLine($"with {churned} marked write transactions beside: {report}");
        churned.Should().BeGreaterThan(100, "the marked sessions must really have run write transactions meanwhile");
        harness.RolledBack.Should().NotBeEmpty();
        report.Clean.Should().BeTrue(report.ToString());
        report.Seen.Should().Be(report.Committed);
    }
}
