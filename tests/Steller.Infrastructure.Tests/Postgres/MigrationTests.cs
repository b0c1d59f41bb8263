using FluentAssertions;
using Microsoft.Extensions.Logging.Abstractions;
using NUnit.Framework;
using Steller.Infrastructure.Postgres;
using Steller.Testing;

namespace Steller.Infrastructure.Tests.Postgres;

public sealed class MigrationTests
{
    [Test]
    public async Task migrating_twice_applies_everything_once_and_then_nothing()
    {
        await using var db = await TestDatabase.Create("migrate", migrate: false);
        var migrator = new Migrator(db.DataSource, NullLogger<Migrator>.Instance);

        (await migrator.Pending()).Should().Equal(Migrator.Scripts.Select(s => s.Id));
        (await migrator.Migrate()).Should().Equal(Migrator.Scripts.Select(s => s.Id));
        (await migrator.Migrate()).Should().BeEmpty();
        (await migrator.Pending()).Should().BeEmpty();
    }

    [Test]
    public async Task nodes_migrating_at_the_same_moment_apply_each_script_once()
    {
        await using var db = await TestDatabase.Create("migraterace", migrate: false);
        var runs = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => new Migrator(db.DataSource, NullLogger<Migrator>.Instance).Migrate()));
        runs.SelectMany(r => r).Should().Equal(Migrator.Scripts.Select(s => s.Id));
    }

    [Test, CancelAfter(120_000)]
    public async Task a_migration_whose_session_the_server_ends_is_tried_again_and_completes()
    {
        await using var db = await TestDatabase.Create("migratekilled", migrate: false);
        var victimConnection = new Npgsql.NpgsqlConnectionStringBuilder(db.ConnectionString) { ApplicationName = "migrate-victim" }.ConnectionString;
        await using var victim = Npgsql.NpgsqlDataSource.Create(victimConnection);
        // Another node holds the migration lock, so the migration waits in a known place.
        await using var holder = await db.DataSource.OpenConnectionAsync();
        await using (var take = new Npgsql.NpgsqlCommand($"select pg_advisory_lock({Migrator.LockKey})", holder)) await take.ExecuteNonQueryAsync();

        var migration = new Migrator(victim, NullLogger<Migrator>.Instance).Migrate();
        await Waiting(db);
        (await db.Scalar<bool>($"select bool_and(pg_terminate_backend(pid)) from pg_stat_activity where datname = '{db.Name}' and application_name = 'migrate-victim'"))
            .Should().BeTrue("the waiting migration's session is ended, as pg_terminate_backend or a failover would");
        await Waiting(db); // the next attempt, on a new session
        await using (var release = new Npgsql.NpgsqlCommand($"select pg_advisory_unlock({Migrator.LockKey})", holder)) await release.ExecuteNonQueryAsync();

        (await migration).Should().Equal(Migrator.Scripts.Select(s => s.Id));
        (await new Migrator(db.DataSource, NullLogger<Migrator>.Instance).Pending()).Should().BeEmpty();
    }

    /// <summary>Until a session of the migration waits for the migration lock.</summary>
    private static Task Waiting(TestDatabase db) => Eventually.True(async () => await db.Scalar<long>(
            $"select count(*) from pg_stat_activity where datname = '{db.Name}' and application_name = 'migrate-victim' and wait_event_type = 'Lock'") == 1,
        TimeSpan.FromSeconds(30), "the migration waits for the migration lock");
}
