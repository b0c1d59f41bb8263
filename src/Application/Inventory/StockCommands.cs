using Microsoft.Extensions.Logging;
using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Application.Serialization;
using Steller.Domain.Inventory;

namespace Steller.Application.Inventory;

/// <summary>
/// Every stock command goes through here: stream "stock-{sku}.{location}", serialised and batched per stock item by
/// <see cref="AggregateCommands{TState,TEvent}"/>, decided by <see cref="Stock.Decide"/>. The separator is a '.'
/// (never part of an id) so that no two (sku, location) pairs can share a stream: with '-' "a-b"/"c" and "a"/"b-c" would.
/// </summary>
public sealed class StockCommands(IEventStore store, EventTypeRegistry registry, ILogger<StockCommands> logger)
{
    public const string StreamPrefix = "stock-";

    private readonly AggregateCommands<Stock, IStockEvent> commands = new("stock", store, registry, Stock.Empty, Stock.Evolve, logger);

    public static string StreamId(string sku, string location) => $"{StreamPrefix}{sku}.{location}";

    public static bool TryParseStreamId(string streamId, out string sku, out string location)
    {
        sku = location = "";
        if (!streamId.StartsWith(StreamPrefix, StringComparison.Ordinal)) return false;
        var rest = streamId[StreamPrefix.Length..];
        var dot = rest.IndexOf('.');
        if (dot < 0) return false;
        (sku, location) = (rest[..dot], rest[(dot + 1)..]);
        return Stock.IsValidId(sku) && Stock.IsValidId(location);
    }

    public Task<CommandOutcome<Stock>> Execute(string sku, string location, IStockCommand command, EventMetadata metadata, CancellationToken ct = default) =>
        commands.Execute(StreamId(sku, location), s => Stock.Decide(command, s), metadata, ct);

    public Task<(Stock State, long Revision)> Load(string sku, string location, CancellationToken ct = default) =>
        commands.Load(StreamId(sku, location), ct);
}
