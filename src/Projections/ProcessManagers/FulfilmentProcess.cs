using Microsoft.Extensions.Logging;
using Steller.Application.EventStore;
using Steller.Application.Orders;
using Steller.Application.Orders.Fulfilling;
using Steller.Application.Serialization;
using Steller.Domain.Orders;
using Steller.Projections.Engine;
using Steller.Projections.Fulfilment;

namespace Steller.Projections.ProcessManagers;

/// <summary>
/// Process manager: an order whose funds are held is fulfilled at once. An order that cannot be finished now (a slow vendor,
/// a vendor that is down) is left in flight for <see cref="FulfilmentPoller"/>; so is one that throws, with a log line,
/// rather than holding up every order behind it. Fulfilment is idempotent, so running an order twice is harmless.
/// </summary>
public sealed class FulfilmentProcess(OrderFulfilment fulfilment, ILogger<FulfilmentProcess> logger) : IProcessManager
{
    public const int Parallelism = 32;
    public string Name => "order_fulfilment";
    public IReadOnlySet<string> EventTypes { get; } = EventNames.Of<OrderFundsHeld>();

    public async Task Handle(IReadOnlyList<RecordedEvent> events, CancellationToken stopping)
    {
        // A rebuild replays history: orders long settled are no-ops, at the cost of one stream read each.
        var orders = events.Select(e => (Ok: Order.TryParseStreamName(e.StreamId, out var id), Id: id, e.Metadata.CorrelationId))
            .Where(o => o.Ok).DistinctBy(o => o.Id).ToList();
        await Parallel.ForEachAsync(orders, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = stopping },
                async (o, ct) =>
        {
            try
            {
                var order = await fulfilment.Advance(o.Id, o.CorrelationId, ct);
                if (order.Status == OrderStatus.Submitted)
                    _ = FollowUp(o.Id, o.CorrelationId, stopping); // the worker's token: this loop's own ends with it
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogError(e, "Fulfilment of order {OrderId} failed; the poller will take it up again", o.Id);
            }
        });
    }

    /// <summary>
    /// When a vendor that answered "processing" is asked again (after each delay, in ms). An asynchronous vendor (the gift-card
    /// API: checkout, then read the order) has usually finished by the first, which decides the order's completion time; the
    /// later ones space out for a slow purchase.
    /// </summary>
    public static readonly int[] FollowUpDelaysMs = [20, 200, 400, 800, 1_600];

    /// <summary>
    /// A vendor that answered "processing" usually finishes within a moment: ask again soon (<see cref="FollowUpDelaysMs"/>)
    /// rather than wait for the poller's next pass. Best effort: the poller remains what guarantees progress.
    /// </summary>
    private async Task FollowUp(string orderId, string correlationId, CancellationToken ct)
    {
        try
        {
            foreach (var delay in FollowUpDelaysMs)
            {
                await Task.Delay(delay, ct);
                if ((await fulfilment.Advance(orderId, correlationId, ct)).Status != OrderStatus.Submitted) return;
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "Follow-up of order {OrderId} failed; the poller will take it up", orderId);
        }
        catch (OperationCanceledException) { }
    }
}
