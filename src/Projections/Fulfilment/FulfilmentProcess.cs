using Microsoft.Extensions.Logging;
using Steller.Application.EventStore;
using Steller.Application.Orders;
using Steller.Application.Orders.Fulfilling;
using Steller.Projections.Engine;

namespace Steller.Projections.Fulfilment;

/// <summary>
/// Process manager: an order whose funds are held is fulfilled at once. It rides the projection engine for its own
/// checkpoint and single-runner leadership and owns no tables. An order that cannot be finished now (a slow vendor,
/// a vendor that is down) is left in flight for <see cref="FulfilmentPoller"/>; so is one that throws, with a log line,
/// rather than holding up every order behind it. Fulfilment is idempotent, so running an order twice is harmless.
/// </summary>
public sealed class FulfilmentProcess(OrderFulfilment fulfilment, ILogger<FulfilmentProcess> logger) : IProjection
{
    public const int Parallelism = 32;
    public string Name => "order_fulfilment";
    public int Version => 1;
    public IReadOnlySet<string>? EventTypes { get; } = new HashSet<string> { "order.funds-held.v1" };
    public IReadOnlyList<string> Tables => [];
    public string CreateTablesSql(string schema) => "";

    public async Task Apply(IReadOnlyList<RecordedEvent> events, ProjectionContext context)
    {
        // A rebuild replays history: orders long settled are no-ops, at the cost of one stream read each.
        var orders = events.Select(e => (Ok: OrderCommands.TryParseStreamId(e.StreamId, out var id), Id: id, e.Metadata.CorrelationId))
            .Where(o => o.Ok).DistinctBy(o => o.Id).ToList();
        await Parallel.ForEachAsync(orders, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = context.CancellationToken }, async (o, ct) =>
        {
            try { await fulfilment.Advance(o.Id, o.CorrelationId, ct); }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogError(e, "Fulfilment of order {OrderId} failed; the poller will take it up again", o.Id);
            }
        });
    }
}
