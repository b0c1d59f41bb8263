using FluentAssertions;
using Microsoft.Extensions.Configuration;
using NUnit.Framework;
using Steller.Infrastructure.Configuration;

namespace Steller.Infrastructure.Tests.Catalog;

/// <summary>Jobs:CatalogSyncMinutes: 30 by default, 1–1440, a bad value stops start naming the key.</summary>
public sealed class CatalogSyncSettingsTests
{
    private static StellerSettings Load(string? minutes)
    {
        var data = new Dictionary<string, string?> { ["Database:ConnectionString"] = "Host=127.0.0.1;Port=55432;Database=steller;Username=steller", ["Jobs:CatalogSyncMinutes"] = minutes };
        return StellerSettings.Load(new ConfigurationBuilder().AddInMemoryCollection(data).Build());
    }

    [Test]
    public void the_catalog_sync_runs_every_30_minutes_unless_configured() =>
        (Load(null).Jobs.CatalogSyncMinutes, Load("5").Jobs.CatalogSyncMinutes).Should().Be((30, 5));

    [TestCase("0")]
    [TestCase("1441")]
    [TestCase("half an hour")]
    public void a_bad_catalog_sync_interval_stops_start_naming_the_key(string value) =>
        FluentActions.Invoking(() => Load(value)).Should().Throw<ConfigurationException>()
            .Which.Message.Should().StartWith("Jobs:CatalogSyncMinutes (env STELLER__Jobs__CatalogSyncMinutes) is invalid; expected a whole number from 1 to 1440");
}
