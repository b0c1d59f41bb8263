using FluentAssertions;
using Steller.Application.Commands;
using Microsoft.Extensions.Logging.Abstractions;
using Steller.Application.EventStore;
using Steller.Application.Orders;
using Steller.Application.Serialization;
using Steller.Domain.Orders;

namespace Steller.Projections.Tests.Orders;

/// <summary>
/// Orders of two partners driven through the order aggregate (so every sequence is one the domain allows), each step
/// recorded at its own instant. All on <see cref="Day"/> (UTC) except the partial order's delivery, after midnight.
/// Partner p-1, EUR: completed (2 skus, a transient attempt), partially completed (placed 23:50, completed next day),
/// failed, rejected, cancelled, refunded in two steps, partially refunded (2 skus), and three still pending (Placed,
/// FundsHeld, Submitted). Partner p-2: one completed order.
/// </summary>
public sealed class OrderScenario(IEventStore store)
{
    public static readonly DateTimeOffset Day = new(2026, 11, 20, 0, 0, 0, TimeSpan.Zero);
    public const string Partner = "p-1", OtherPartner = "p-2";
    /// <summary>Every card code and PIN ciphertext starts with this; no read model row may contain it.</summary>
    public const string CiphertextMarker = "SEALED-MARKER-9c41e";

    private readonly AggregateCommands<Order, IOrderCommand, IOrderEvent> orders = new(Aggregates.Orders, store, EventTypeRegistry.ForDomain(), NullLogger.Instance);

    /// <summary>The commands the scenario ran, with their cache of every order as it left it.</summary>
    public AggregateCommands<Order, IOrderCommand, IOrderEvent> Commands => orders;
    private int cards;

    public static string Id(string reference, string partner = Partner) => Order.IdFor(partner, reference);
    public static DateTimeOffset At(int hour, int minute, int second = 0) => Day.AddHours(hour).AddMinutes(minute).AddSeconds(second);

    public static OrderLine GiftA(int lineNo, int quantity) =>
        new(lineNo, "gift-a", quantity, 10_00, new LinePricing(9_50, 9_00, "giftcard", "giftcard", "bamboo-123", false));
    public static OrderLine TopupB(int lineNo, int quantity) =>
        new(lineNo, "topup-b", quantity, 5_00, new LinePricing(5_00, 4_80, "topup", "topup", "ding-9", false));

    public async Task<Order> Run(string orderId, DateTimeOffset at, IOrderCommand command)
    {
        var outcome = await orders.Execute(Order.StreamName(orderId), command, new EventMetadata("corr", "cause", Guid.NewGuid(), "test", at));
        outcome.Error.Should().BeNull($"{command.GetType().Name} on {orderId} is allowed");
        return outcome.State;
    }

    public Task<Order> Place(string reference, DateTimeOffset at, OrderLine[] lines, string partner = Partner, OrderRejected? rejection = null) =>
        Run(Id(reference, partner), at, new PlaceOrder(Id(reference, partner), partner, reference, $"hash-{reference}", "EUR", lines,
            new Recipient("+4915112345678", null), rejection, at));

    public IReadOnlyList<DeliveredCard> Cards(int count) => Enumerable.Range(0, count).Select(_ =>
    {
        var n = Interlocked.Increment(ref cards);
        return new DeliveredCard($"SN-{n}", new SealedValue("k1", $"{CiphertextMarker}-code-{n}", "ctx"),
            new SealedValue("k1", $"{CiphertextMarker}-pin-{n}", "ctx"), new DateOnly(2027, 12, 31));
    }).ToList();

    /// <summary>Funds held, fulfilment started, the given deliveries (line, units, reason) and settlement, one second apart from <paramref name="start"/>.</summary>
    private async Task Fulfil(string id, DateTimeOffset start, params (int Line, int Delivered, string? Reason, DateTimeOffset? At)[] deliveries)
    {
        await Run(id, start.AddSeconds(1), new RecordFundsHeld([]));
        await Run(id, start.AddSeconds(2), new StartFulfilment());
        var at = start.AddSeconds(3);
        foreach (var (line, delivered, reason, when) in deliveries)
        {
            at = when ?? at.AddSeconds(1);
            await Run(id, at, new RecordLineFulfilled(line, delivered, Cards(delivered), reason));
        }
        await Run(id, at.AddSeconds(1), new Settle());
    }

    public async Task WriteAll()
    {
        // O1 completed: 2 skus, one transient vendor failure on line 1.
        var o1 = Id("r-completed");
        await Place("r-completed", At(10, 0), [GiftA(1, 2), TopupB(2, 1)]);
        await Run(o1, At(10, 0, 1), new RecordFundsHeld([]));
        await Run(o1, At(10, 0, 2), new StartFulfilment());
        await Run(o1, At(10, 0, 3), new RecordAttemptFailed(1, "vendor timeout"));
        await Run(o1, At(10, 0, 4), new RecordLineFulfilled(1, 2, Cards(2), null));
        await Run(o1, At(10, 0, 5), new RecordLineFulfilled(2, 1, Cards(1), null));
        await Run(o1, At(10, 0, 6), new Settle());

        // O2 partially completed: placed before midnight, delivered and settled after.
        await Place("r-partial", At(23, 50), [GiftA(1, 3)]);
        await Fulfil(Id("r-partial"), At(23, 50), (1, 1, "out of stock", Day.AddDays(1).AddMinutes(10)));

        // O3 failed: nothing delivered.
        await Place("r-failed", At(11, 0), [GiftA(1, 1)]);
        await Fulfil(Id("r-failed"), At(11, 0), (1, 0, "vendor rejected", null));

        // O4 rejected at pricing.
        await Place("r-rejected", At(12, 0), [new OrderLine(1, "gift-x", 1, 20_00, null)], rejection: new OrderRejected("unknown_sku", "Unknown sku gift-x"));

        // O5 cancelled by the pending timeout after the funds were held.
        await Place("r-cancelled", At(13, 0), [TopupB(1, 2)]);
        await Run(Id("r-cancelled"), At(13, 0, 1), new RecordFundsHeld([]));
        await Run(Id("r-cancelled"), At(13, 20), new CancelOrder("pending timeout"));

        // O6 completed, then refunded in full in two steps.
        await Place("r-refunded", At(14, 0), [GiftA(1, 2)]);
        await Fulfil(Id("r-refunded"), At(14, 0), (1, 2, null, null));
        await Run(Id("r-refunded"), At(15, 0), new RefundOrder("rf-1", 5_00, "goodwill"));
        await Run(Id("r-refunded"), At(16, 0), new RefundOrder("rf-2", 14_00, "returned"));

        // O7 completed on 2 skus, then partially refunded.
        await Place("r-part-refund", At(14, 30), [TopupB(1, 1), GiftA(2, 1)]);
        await Fulfil(Id("r-part-refund"), At(14, 30), (1, 1, null, null), (2, 1, null, null));
        await Run(Id("r-part-refund"), At(15, 30), new RefundOrder("rf-1", 3_00, "goodwill"));

        // O8..O10 pending: placed (a sale below cost), funds held, submitted with a transient failure.
        await Place("r-placed", At(17, 0), [new OrderLine(1, "gift-a", 1, 10_00, new LinePricing(8_50, 9_00, "giftcard", "giftcard", "bamboo-123", true))]);
        await Place("r-held", At(17, 10), [GiftA(1, 1)]);
        await Run(Id("r-held"), At(17, 10, 1), new RecordFundsHeld([]));
        await Place("r-submitted", At(17, 20), [TopupB(1, 1)]);
        await Run(Id("r-submitted"), At(17, 20, 1), new RecordFundsHeld([]));
        await Run(Id("r-submitted"), At(17, 20, 2), new StartFulfilment());
        await Run(Id("r-submitted"), At(17, 25), new RecordAttemptFailed(1, "503 from vendor"));

        // O11: the other partner's completed order.
        await Place("r-other", At(10, 30), [GiftA(1, 1)], partner: OtherPartner);
        await Fulfil(Id("r-other", OtherPartner), At(10, 30), (1, 1, null, null));
    }
}
