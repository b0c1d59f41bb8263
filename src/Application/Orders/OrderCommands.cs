using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Application.Serialization;
using Steller.Domain.Orders;

namespace Steller.Application.Orders;

/// <summary>
/// Every order command goes through here: stream "order-{orderId}", serialised and batched per order by
/// <see cref="AggregateCommands{TState,TEvent}"/>, decided by <see cref="Order.Decide"/>.
/// </summary>
public sealed class OrderCommands(IEventStore store, EventTypeRegistry registry, ILogger<OrderCommands> logger)
{
    public const string StreamPrefix = "order-";

    private readonly AggregateCommands<Order, IOrderEvent> commands = new("order", store, registry, Order.Empty, Order.Evolve, logger);

    public static string StreamId(string orderId) => StreamPrefix + orderId;

    public static bool TryParseStreamId(string streamId, out string orderId)
    {
        orderId = streamId.StartsWith(StreamPrefix, StringComparison.Ordinal) ? streamId[StreamPrefix.Length..] : "";
        return orderId.Length > 0;
    }

    /// <summary>
    /// The order id of a partner's client reference: "ord-" + 26 base32 characters of SHA-256(partner id, reference).
    /// Deterministic, so concurrent duplicates meet on one stream, and the same id serves as the wallet hold's transfer
    /// id and the stock reservations' order id.
    /// </summary>
    public static string OrderIdFor(string partnerId, string clientReference)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{partnerId}\n{clientReference}"));
        const string alphabet = "abcdefghijklmnopqrstuvwxyz234567";
        var id = new StringBuilder("ord-", 30);
        for (var bit = 0; id.Length < 30; bit += 5)
        {
            var value = ((hash[bit / 8] << 8 | hash[bit / 8 + 1]) >> (11 - bit % 8)) & 31;
            id.Append(alphabet[value]);
        }
        return id.ToString();
    }

    public static bool IsOrderId(string? id) =>
        id is { Length: 30 } && id.StartsWith("ord-", StringComparison.Ordinal) && id[4..].All(c => c is (>= 'a' and <= 'z') or (>= '2' and <= '7'));

    public Task<CommandOutcome<Order>> Execute(string orderId, IOrderCommand command, EventMetadata metadata, CancellationToken ct = default) =>
        commands.Execute(StreamId(orderId), s => Order.Decide(command, s), metadata, ct);

    public Task<(Order State, long Revision)> Load(string orderId, CancellationToken ct = default) => commands.Load(StreamId(orderId), ct);
}
