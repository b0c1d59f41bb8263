using FluentAssertions;
using Npgsql;
using NUnit.Framework;
using Steller.Infrastructure.Postgres;
using Steller.Testing;

namespace Steller.Infrastructure.Tests.Postgres;

/// <summary>`steller analyst grant|revoke`: a login that reads schema read and nothing else, kept across view rebuilds.</summary>
public sealed class AnalystRolesTests
{
    private static string NewName() => $"analyst_{Guid.NewGuid():N}"[..24];

    private static NpgsqlConnection ConnectAs(TestDatabase db, AnalystRoles.Granted analyst) =>
        new(new NpgsqlConnectionStringBuilder(db.ConnectionString) { Username = analyst.Name, Password = analyst.Password, Pooling = false }.ConnectionString);

    private static async Task<object?> Select(NpgsqlConnection conn, string relation)
    {
        await using var cmd = new NpgsqlCommand($"select count(*) from {relation}", conn);
        return await cmd.ExecuteScalarAsync();
    }

    [Test, CancelAfter(120_000)]
    public async Task an_analyst_reads_the_read_views_even_after_a_rebuild_and_cannot_read_the_event_store_secrets_or_tokens()
    {
        await using var db = await TestDatabase.Create("analysts");
        var roles = new AnalystRoles(db.DataSource);
        var analyst = await roles.Grant(NewName(), default);
        analyst.Password.Should().MatchRegex("^[A-Za-z0-9_-]{32}$");

        await using (var conn = ConnectAs(db, analyst))
        {
            await conn.OpenAsync();
            (await Select(conn, "read.admin_audit")).Should().Be(0L);
            (await Select(conn, "read.vendor_health")).Should().NotBeNull();

            var forbidden = (await db.TablesAndViews()).Where(t => !t.StartsWith("\"read\".") && !t.StartsWith("read.")).ToList();
            forbidden.Should().Contain(["es.events", "steller.admin_tokens"]);
            foreach (var relation in forbidden)
            {
                var act = () => Select(conn, relation);
                (await act.Should().ThrowAsync<PostgresException>($"{relation} is not for analysts"))
                    .Which.SqlState.Should().Be(PostgresErrorCodes.InsufficientPrivilege);
            }
            var write = () => Select(conn, "es.append('x', -2, array[]::uuid[], array[]::text[], array[]::json[], array[]::json[], array[]::timestamptz[])");
            await write.Should().ThrowAsync<PostgresException>();
        }

        // A rebuild swaps the views: drop and create, as the engine does. The grant holds for the new view.
        await using (var cmd = db.DataSource.CreateCommand("""
            create schema read_v77; create table read_v77.analyst_probe (n int); insert into read_v77.analyst_probe values (1), (2);
            drop view if exists read.analyst_probe; create view read.analyst_probe as select * from read_v77.analyst_probe;
            """))
            await cmd.ExecuteNonQueryAsync();
        await using (var conn = ConnectAs(db, analyst))
        {
            await conn.OpenAsync();
            (await Select(conn, "read.analyst_probe")).Should().Be(2L);
            var underlying = () => Select(conn, "read_v77.analyst_probe");
            await underlying.Should().ThrowAsync<PostgresException>();
        }

        (await roles.Revoke(analyst.Name, default)).Should().BeTrue();
        (await db.Scalar<long>($"select count(*) from pg_roles where rolname = '{analyst.Name}'")).Should().Be(0);
        (await roles.Revoke(analyst.Name, default)).Should().BeFalse();
    }

    [TestCase("ab")]
    [TestCase("Analyst")]
    [TestCase("9lives")]
    [TestCase("pg_reader")]
    [TestCase("steller")]
    [TestCase("eve\"; drop table es.events; --")]
    [TestCase("a_name_that_is_far_too_long_for_an_analyst_x")]
    public void a_bad_name_is_refused(string name) => AnalystRoles.Invalid(name).Should().NotBeNull();

    [Test, CancelAfter(60_000)]
    public async Task a_role_that_is_not_an_analyst_is_neither_taken_over_nor_removed()
    {
        await using var db = await TestDatabase.Create("analystsother");
        var name = NewName();
        await using (var cmd = db.DataSource.CreateCommand($"create role {name} nologin")) await cmd.ExecuteNonQueryAsync();
        var roles = new AnalystRoles(db.DataSource);
        var grant = () => roles.Grant(name, default);
        await grant.Should().ThrowAsync<InvalidOperationException>().WithMessage("*not a Steller analyst*");
        var revoke = () => roles.Revoke(name, default);
        await revoke.Should().ThrowAsync<InvalidOperationException>();
        await using (var cmd = db.DataSource.CreateCommand($"drop role {name}")) await cmd.ExecuteNonQueryAsync();
    }
}
