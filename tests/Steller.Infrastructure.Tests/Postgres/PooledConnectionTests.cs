using FluentAssertions;
using Npgsql;
using NUnit.Framework;
using Steller.Application.EventStore;
using Steller.Infrastructure.Postgres;
using Steller.Testing;

namespace Steller.Infrastructure.Tests.Postgres;

/// <summary>
/// The connections Steller pools (<see cref="StorageRegistration.PooledConnectionString"/>): not reset on reuse, statements
/// used twice on a connection are prepared there, and at most <see cref="StorageRegistration.MaxPoolSize"/> of them, unless the
/// configured connection string says otherwise.
/// </summary>
public sealed class PooledConnectionTests
{
    [Test]
    public void a_connection_string_without_those_settings_gets_no_reset_and_automatic_preparation()
    {
        var pooled = new NpgsqlConnectionStringBuilder(StorageRegistration.PooledConnectionString("Host=127.0.0.1;Database=steller"));
        pooled.NoResetOnClose.Should().BeTrue();
        pooled.MaxAutoPrepare.Should().Be(StorageRegistration.AutoPreparedStatements);
        pooled.AutoPrepareMinUsages.Should().Be(2);
        pooled.MaxPoolSize.Should().Be(StorageRegistration.MaxPoolSize);
    }

    [Test]
    public void a_value_that_mentions_a_setting_does_not_count_as_giving_it()
    {
        var pooled = new NpgsqlConnectionStringBuilder(StorageRegistration.PooledConnectionString(
            "Host=127.0.0.1;Database=prepare_reset;Application Name=no reset"));
        pooled.NoResetOnClose.Should().BeTrue();
        pooled.MaxAutoPrepare.Should().Be(StorageRegistration.AutoPreparedStatements);
    }

    [Test]
    public void settings_the_connection_string_gives_are_kept()
    {
        var pooled = new NpgsqlConnectionStringBuilder(StorageRegistration.PooledConnectionString(
            "Host=127.0.0.1;Database=steller;Max Auto Prepare=0;No Reset On Close=false;Maximum Pool Size=7"));
        pooled.NoResetOnClose.Should().BeFalse();
        pooled.MaxAutoPrepare.Should().Be(0);
        pooled.MaxPoolSize.Should().Be(7);
    }

    [Test]
    public void a_minimum_pool_size_above_the_default_maximum_raises_the_maximum_to_it()
    {
        var pooled = new NpgsqlConnectionStringBuilder(StorageRegistration.PooledConnectionString(
            $"Host=127.0.0.1;Database=steller;Minimum Pool Size={StorageRegistration.MaxPoolSize + 10}"));
        pooled.MaxPoolSize.Should().Be(StorageRegistration.MaxPoolSize + 10);
    }

    [Test, CancelAfter(60_000)]
    public async Task the_event_stores_stream_read_is_prepared_once_and_planned_generically_on_a_pooled_connection(CancellationToken ct)
    {
        await using var db = await TestDatabase.Create("pooled_prepare") /* "prepare" in the name: a key, not a value, decides */;
        var cs = new NpgsqlConnectionStringBuilder(StorageRegistration.PooledConnectionString(db.ConnectionString)) { MaxPoolSize = 1 };
        await using var dataSource = NpgsqlDataSource.Create(cs.ConnectionString);
        var store = new PostgresEventStore(dataSource, new LogNotifications(dataSource, Microsoft.Extensions.Logging.Abstractions.NullLogger<LogNotifications>.Instance));
        var stream = Events.Stream();
        await store.Append(stream, ExpectedRevision.NoStream, [Events.Make("test.prepared.v1")], ct);
        for (var i = 0; i < 10; i++)
            (await store.ReadStream(stream, ct: ct)).Events.Should().HaveCount(1, "a prepared read answers as an unprepared one");

        // One pooled connection: the reads above ran on it, and so does this look at its prepared statements.
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var seen = new List<string>();
        await using (var all = new NpgsqlCommand("select name, left(statement, 80), generic_plans, custom_plans from pg_prepared_statements", conn))
        await using (var r = await all.ExecuteReaderAsync(ct))
            while (await r.ReadAsync(ct)) seen.Add($"{r.GetString(0)} {r.GetString(1)} {r.GetInt64(2)} {r.GetInt64(3)}");
        await using var cmd = new NpgsqlCommand(
            "select generic_plans, custom_plans from pg_prepared_statements where statement like '%from es.streams s%left join lateral%'", conn);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        (await reader.ReadAsync(ct)).Should().BeTrue("the stream read was prepared on the connection; prepared: " + string.Join(" | ", seen));
        reader.GetInt64(0).Should().BeGreaterThan(0, "after five custom plans PostgreSQL keeps the generic one, planned once");
    }
}
