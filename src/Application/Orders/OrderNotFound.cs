using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Domain;
using Steller.Domain.Orders;

namespace Steller.Application.Orders;

/// <summary>The refusal every order use case gives for an order id that names no order (or not the caller's).</summary>
public static class OrderNotFound
{
    public static DomainError Error(string orderId) => new(OrderErrors.NotFound.Code, $"No order '{orderId}'.");

    public static CommandOutcome<Order> Outcome(string orderId) => new(Order.Empty, -1, [], Error(orderId), LogPosition.Start);

    /// <summary>True when <paramref name="outcome"/> is about no order at all: the decision refused and nothing was written.</summary>
    public static bool IsNone(CommandOutcome<Order> outcome) => outcome.State.Placed is null;
}
