using FluentAssertions;
using NUnit.Framework;
using Steller.Testing;

namespace Steller.Cli.Tests;

/// <summary>How the programs start: configuration errors stop them with one line naming the key; migrations are idempotent.</summary>
public sealed class StartupTests
{
    [Test]
    public async Task the_api_refuses_to_start_without_a_connection_string_and_names_the_key()
    {
        using var api = await StellerProcess.RunToEnd(StellerProcess.Api(new Dictionary<string, string?>(), "--urls", "http://127.0.0.1:0"));
        api.ExitCode.Should().Be(2);
        var lines = api.Stderr.Trim().Split('\n');
        lines.Should().ContainSingle();
        lines[0].Should().Contain("Database:ConnectionString").And.Contain("STELLER__Database__ConnectionString").And.Contain("missing");
    }

    [TestCase("STELLER__Projections__BatchSize", "lots", "Projections:BatchSize", "whole number")]
    [TestCase("STELLER__EventStore__Backend", "Cassandra", "EventStore:Backend", "one of")]
    [TestCase("STELLER__Http__MaxRequestBodyBytes", "12", "Http:MaxRequestBodyBytes", "from 1024")]
    [TestCase("STELLER__Projections__Enabled", "maybe", "Projections:Enabled", "true or false")]
    [TestCase("STELLER__Http__TrustedProxies", "proxy.internal", "Http:TrustedProxies", "CIDR networks")]
    [TestCase("STELLER__Alerts__VendorErrorRate", "-0.5", "Alerts:VendorErrorRate", "a number from 0 to 1")]
    [TestCase("STELLER__Alerts__CheckSeconds", "often", "Alerts:CheckSeconds", "a number from")]
    [TestCase("STELLER__Alerts__VendorWindowMinutes", "0", "Alerts:VendorWindowMinutes", "a whole number from 1 to 60")]
    [TestCase("STELLER__Webhooks__TimeoutSeconds", "soon", "Webhooks:TimeoutSeconds", "a number from")]
    [TestCase("STELLER__Webhooks__RetryScheduleSeconds", "0,5,x", "Webhooks:RetryScheduleSeconds", "delays in seconds")]
    public async Task a_bad_setting_stops_the_api_with_one_line_naming_it(string variable, string value, string key, string expected)
    {
        var env = new Dictionary<string, string?>
        {
            ["STELLER__Database__ConnectionString"] = "Host=127.0.0.1;Port=1;Database=x;Username=x",
            ["STELLER__Security__MasterKey"] = Convert.ToBase64String(new byte[32]), // settings read after the key ring are reached too
            [variable] = value,
        };
        using var api = await StellerProcess.RunToEnd(StellerProcess.Api(env, "--urls", "http://127.0.0.1:0"));
        api.ExitCode.Should().Be(2);
        api.Stderr.Trim().Split('\n').Should().ContainSingle().Which.Should().Contain(key).And.Contain(expected).And.Contain(value);
    }

    [Test]
    public async Task outside_development_the_api_refuses_to_start_without_a_master_key_and_names_the_key()
    {
        var env = new Dictionary<string, string?>
        {
            ["STELLER__Database__ConnectionString"] = "Host=127.0.0.1;Port=1;Database=x;Username=x",
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["DOTNET_ENVIRONMENT"] = "Production",
        };
        using var api = await StellerProcess.RunToEnd(StellerProcess.Api(env, "--urls", "http://127.0.0.1:0"));
        api.ExitCode.Should().Be(2);
        api.Stderr.Trim().Split('\n').Should().ContainSingle().Which.Should().Contain("Security:MasterKey").And.Contain("STELLER__Security__MasterKey").And.Contain("missing");
    }

    [Test]
    public async Task the_cli_names_a_bad_setting_the_same_way()
    {
        using var cli = await StellerProcess.RunToEnd(StellerProcess.Cli(new Dictionary<string, string?>(), "migrate"));
        cli.ExitCode.Should().Be(2);
        cli.Stderr.Should().Contain("Database:ConnectionString");
    }

    [Test]
    public async Task steller_migrate_applies_the_migrations_once_and_then_reports_nothing_to_do()
    {
        await using var db = await TestDatabase.Create("climigrate", migrate: false);
        var env = new Dictionary<string, string?> { ["STELLER__Database__ConnectionString"] = db.ConnectionString };

        using var first = await StellerProcess.RunToEnd(StellerProcess.Cli(env, "migrate"));
        first.ExitCode.Should().Be(0, first.Stderr);
        first.Stdout.Should().Contain($"Applied {Steller.Infrastructure.Postgres.Migrator.Scripts.Count} migration(s)");

        using var second = await StellerProcess.RunToEnd(StellerProcess.Cli(env, "migrate"));
        second.ExitCode.Should().Be(0, second.Stderr);
        second.Stdout.Should().Contain("nothing to apply");
    }
}
