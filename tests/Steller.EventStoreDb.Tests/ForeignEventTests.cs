using System.Collections.Concurrent;
using FluentAssertions;
using Microsoft.Extensions.Logging;
using NUnit.Framework;
using Steller.Application.EventStore;
using Steller.Domain;
using Steller.Domain.Catalog;
using Steller.Domain.Inventory;
using Steller.Domain.Orders;
using Steller.Domain.Partners;
using Steller.Domain.Wallets;
using Steller.EventStoreDb.Tests.Fake;
using Steller.Infrastructure.EventStoreDb;
using Steller.Testing;

namespace Steller.EventStoreDb.Tests;

/// <summary>
/// A server shared with other applications: Steller's log is its own streams, filtered on the server, and an event
/// that still gets through without Steller's metadata is skipped and counted instead of stopping every reader.
/// </summary>
public sealed class ForeignEventTests : OnFakeServer
{
    [Test]
    public void every_stream_steller_writes_starts_with_one_of_its_stream_prefixes()
    {
        string[] streams = [Wallet.StreamName("p-1", "EUR"), Order.StreamName("ord-1"), Stock.StreamName("sku-1", "main"),
            Product.StreamName("sku-1"), Partner.StreamName("p-1"), Steller.Domain.Vendors.VendorAccount.StreamName("giftcard"),
            Steller.Domain.Alerts.Alert.StreamName("stock_low", "sku-1@main")];
        foreach (var stream in streams)
            StellerStreams.Prefixes.Should().ContainSingle(p => stream.StartsWith(p, StringComparison.Ordinal), stream);
        StellerStreams.Prefixes.Should().HaveCount(7).And.OnlyHaveUniqueItems();
    }

    [Test]
    public async Task without_configuration_the_log_is_stellers_seven_stream_prefixes_filtered_on_the_server()
    {
        using var store = new EventStoreDbEventStore(server.ConnectionString);
        var stellers = new List<string>();
        foreach (var prefix in StellerStreams.Prefixes)
        {
            var stream = prefix + Guid.NewGuid().ToString("N");
            await store.Append(stream, ExpectedRevision.NoStream, [Events.Make()]);
            await store.Append(Events.Stream("other-app"), ExpectedRevision.NoStream, [Events.Make()]);
            server.Log.AppendSystemEvents(2);
            stellers.Add(stream);
        }

        (await store.ReadAll(LogPosition.Start, 100)).Select(e => e.StreamId).Should().Equal(stellers);
        server.Log.LastAllFilter.Should().NotBeNull("the filter travels in the read request");
        server.Log.LastAllFilter!.StreamIdentifier.Prefix.Should().Equal(StellerStreams.Prefixes);

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var seen = new List<string>();
        await foreach (var e in store.SubscribeToAll(LogPosition.Start, cts.Token))
        {
            seen.Add(e.StreamId);
            if (seen.Count == stellers.Count) break;
        }
        seen.Should().Equal(stellers);
        server.Log.LastAllFilter!.StreamIdentifier.Prefix.Should().Equal(StellerStreams.Prefixes);
        server.Log.LastAllFilter.Max.Should().BePositive("a subscription's filter has a window, and so checkpoints");
    }

    [Test]
    public async Task an_event_without_stellers_metadata_in_a_steller_stream_is_skipped_counted_and_named_in_a_warning()
    {
        var warnings = new ConcurrentQueue<string>();
        using var loggers = LoggerFactory.Create(b => b.AddProvider(new Capture(warnings)));
        using var store = new EventStoreDbEventStore(server.ConnectionString,
            new EventStoreDbOptions { Logger = loggers.CreateLogger<EventStoreDbEventStore>() });
        var wallet = Wallet.StreamName("p-1", "EUR");
        var mine = Events.Many(3);
        await store.Append(wallet, ExpectedRevision.NoStream, [mine[0]]);
        server.Log.AppendForeign("wallet-intruder-EUR", "SomethingHappened", "not json");
        await store.Append(wallet, ExpectedRevision.Exact(0), [mine[1]]);
        server.Log.AppendForeign("order-from-elsewhere", "OrderThing", """{"$correlationId":"abc"}""");
        await store.Append(wallet, ExpectedRevision.Exact(1), [mine[2]]);
        var before = EventStoreDbMetrics.ForeignEventsSkipped.Value;

        var page = await store.ReadAll(LogPosition.Start, 3);

        page.Select(e => e.EventId).Should().Equal(mine.Select(e => e.EventId), "a page is still full: skipped events do not shorten it");
        EventStoreDbMetrics.ForeignEventsSkipped.Value.Should().Be(before + 2);
        warnings.Should().Contain(w => w.Contains("wallet-intruder-EUR")).And.Contain(w => w.Contains("order-from-elsewhere"));

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var items = new List<LogItem>();
        await foreach (var item in store.SubscribeToAllWithCheckpoints(LogPosition.Start, cts.Token))
        {
            items.Add(item);
            if (items.Count(i => i.Event is not null) == 3) break;
        }
        items.Where(i => i.Event is not null).Select(i => i.Event!.EventId).Should().Equal(mine.Select(e => e.EventId));
        items.Where(i => i.IsCheckpoint).Should().HaveCountGreaterThanOrEqualTo(2, "a skipped event's position is a checkpoint");
        items.Select(i => i.Position).Should().BeInAscendingOrder();
        EventStoreDbMetrics.ForeignEventsSkipped.Value.Should().Be(before + 4);
        warnings.Count(w => w.Contains("wallet-intruder-EUR")).Should().Be(1, "one warning per stream, not per reader");
    }

    private sealed class Capture(ConcurrentQueue<string> lines) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Logger(lines);
        public void Dispose() { }

        private sealed class Logger(ConcurrentQueue<string> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
            public bool IsEnabled(LogLevel logLevel) => true;
            public void Log<TState>(LogLevel level, EventId id, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (level == LogLevel.Warning) lines.Enqueue(formatter(state, exception));
            }
        }
    }
}
