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
}
