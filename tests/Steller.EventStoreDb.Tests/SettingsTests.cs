using FluentAssertions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using NUnit.Framework;
using Steller.Application.EventStore;
using Steller.Infrastructure;
using Steller.Infrastructure.Configuration;
using Steller.Infrastructure.EventStoreDb;

namespace Steller.EventStoreDb.Tests;

/// <summary>Choosing EventStoreDB by configuration, and the one-line errors that stop a bad start.</summary>
public sealed class SettingsTests
{
    private static StellerSettings Load(params (string Key, string? Value)[] values)
    {
        var data = new Dictionary<string, string?> { ["Database:ConnectionString"] = "Host=127.0.0.1;Port=55432;Database=steller;Username=steller" };
        foreach (var (k, v) in values) data[k] = v;
        return StellerSettings.Load(new ConfigurationBuilder().AddInMemoryCollection(data).Build());
    }

    [Test]
    public void eventstoredb_is_a_backend_with_its_connection_string_parsed()
    {
        var s = Load(("EventStore:Backend", "EventStoreDB"), ("EventStore:ConnectionString", "esdb://127.0.0.1:2113?tls=false"));
        s.EventStore.Backend.Should().Be(EventStoreBackend.EventStoreDB);
        s.EventStore.EventStoreDb!.Port.Should().Be(2113);
        s.EventStore.StreamPrefixes.Should().BeEmpty();
        s.EventStore.MaxAppendSizeBytes.Should().Be(1_048_576);
        Load(("EventStore:Backend", "eventstoredb"), ("EventStore:ConnectionString", "esdb://h?tls=false")).EventStore.Backend
            .Should().Be(EventStoreBackend.EventStoreDB, "the backend name is case-insensitive");
    }

    [Test]
    public void a_missing_connection_string_stops_start_naming_the_key()
    {
        var act = () => Load(("EventStore:Backend", "EventStoreDB"));
        var message = act.Should().Throw<ConfigurationException>().Which.Message;
        message.Should().StartWith("EventStore:ConnectionString (env STELLER__EventStore__ConnectionString) is missing; expected an EventStoreDB connection string");
        message.Should().NotContain("\n");
    }

    [TestCase("esdb+discover://a:2113,b:2113", "takes one host")]
    [TestCase("Host=127.0.0.1;Port=5432", "does not start with esdb://")]
    [TestCase("esdb://127.0.0.1:2113?tls=nope", "tls must be true or false")]
    public void an_invalid_connection_string_stops_start_naming_the_key_and_the_reason(string value, string reason)
    {
        var act = () => Load(("EventStore:Backend", "EventStoreDB"), ("EventStore:ConnectionString", value));
        var message = act.Should().Throw<ConfigurationException>().Which.Message;
        message.Should().StartWith("EventStore:ConnectionString (env STELLER__EventStore__ConnectionString) is invalid;").And.Contain(reason);
    }

    [Test]
    public void stream_prefixes_come_as_a_list_or_comma_separated_and_may_not_be_system_streams()
    {
        Load(("EventStore:Backend", "EventStoreDB"), ("EventStore:ConnectionString", "esdb://h?tls=false"), ("EventStore:StreamPrefixes", "wallet-, order-"))
            .EventStore.StreamPrefixes.Should().Equal("wallet-", "order-");
        Load(("EventStore:Backend", "EventStoreDB"), ("EventStore:ConnectionString", "esdb://h?tls=false"),
                ("EventStore:StreamPrefixes:0", "wallet-"), ("EventStore:StreamPrefixes:1", "order-"))
            .EventStore.StreamPrefixes.Should().Equal("wallet-", "order-");
        var act = () => Load(("EventStore:Backend", "EventStoreDB"), ("EventStore:ConnectionString", "esdb://h?tls=false"), ("EventStore:StreamPrefixes", "wallet-,$ce-"));
        act.Should().Throw<ConfigurationException>().WithMessage("EventStore:StreamPrefixes (env STELLER__EventStore__StreamPrefixes) is invalid;*$ce-*");
    }

    [Test]
    public void the_append_size_limit_is_configurable_and_checked()
    {
        Load(("EventStore:Backend", "EventStoreDB"), ("EventStore:ConnectionString", "esdb://h?tls=false"), ("EventStore:MaxAppendSizeBytes", "2097152"))
            .EventStore.MaxAppendSizeBytes.Should().Be(2_097_152);
        var act = () => Load(("EventStore:Backend", "EventStoreDB"), ("EventStore:ConnectionString", "esdb://h?tls=false"), ("EventStore:MaxAppendSizeBytes", "lots"));
        act.Should().Throw<ConfigurationException>().WithMessage("EventStore:MaxAppendSizeBytes (env STELLER__EventStore__MaxAppendSizeBytes) is invalid;*");
    }

    [Test]
    public void the_postgres_backend_does_not_need_an_eventstoredb_connection_string()
    {
        Load().EventStore.Backend.Should().Be(EventStoreBackend.Postgres);
        Load(("EventStore:Backend", "Postgres"), ("EventStore:ConnectionString", "whatever")).EventStore.EventStoreDb.Should().BeNull();
    }

    [Test]
    public void storage_registration_puts_the_eventstoredb_adapter_behind_the_port()
    {
        var settings = Load(("EventStore:Backend", "EventStoreDB"), ("EventStore:ConnectionString", "esdb://127.0.0.1:1?tls=false"),
            ("EventStore:StreamPrefixes", "wallet-"), ("EventStore:MaxAppendSizeBytes", "33554432"));
        var services = new ServiceCollection().AddLogging();
        services.AddStellerStorage(settings);
        using var provider = services.BuildServiceProvider();

        var store = provider.GetRequiredService<IEventStore>();
        store.Should().BeOfType<EventStoreDbEventStore>().Which.Connection.Port.Should().Be(1);
        store.Should().BeAssignableTo<ICheckpointingLog>();
    }
}
