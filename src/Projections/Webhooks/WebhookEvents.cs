using System.Text.Json;
using Steller.Application.Commands;
using Steller.Application.EventStore;
using Steller.Application.Orders.ViewingOrder;
using Steller.Application.Serialization;
using Steller.Application.Webhooks;
using Steller.Domain.Alerts;
using Steller.Domain.Orders;
using Steller.Domain.Wallets;
using Engine = Steller.Projections.Engine;
using Steller.Infrastructure.Webhooks;

namespace Steller.Projections.Webhooks;

/// <summary>What one event means to a partner's webhooks: its type, the partner, one order's ordering, and the payload body.</summary>
public sealed record WebhookEvent(RecordedEvent Event, string PartnerId, string Type, string? OrderingKey, long Sequence, string Body)
{
    public NewWebhookMessage For(WebhookEndpointRow endpoint) =>
        new(WebhookIds.MessageId(Event.EventId, endpoint.Id), endpoint.Id, PartnerId, Event.EventId, Type, OrderingKey, Sequence, Body,
            Event.Metadata.RecordedAt);

    public bool Concerns(WebhookEndpointRow endpoint) =>
        endpoint.PartnerId == PartnerId && (endpoint.EventTypes is null || endpoint.EventTypes.Contains(Type, StringComparer.Ordinal));
}

/// <summary>
/// Turns events of the log into webhook payloads <c>{type, timestamp, data}</c>, the same bytes every time for the same event
/// (so a replay sends what the first delivery sent): an order's data is the order as it stood at that event's revision (the
/// view of <c>GET /v1/orders/{id}</c>, codes and PINs always null) with that <c>revision</c>; the timestamp is the event's.
/// </summary>
/// <param name="orders">This process's order commands, whose cache often holds an order at the very event the follower describes.</param>
public sealed class WebhookEvents(IEventStore store, EventTypeRegistry registry,
    AggregateCommands<Order, IOrderCommand, IOrderEvent>? orders = null)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// Every wallet event (any may cross the low-balance threshold), the order events that end or refund an order, and the alert
    /// events (for the admin endpoints).
    /// </summary>
    public IReadOnlySet<string> EventTypes { get; } = Engine.EventTypeSet.Union(
        EventNames.Of<OrderCompleted>(), EventNames.Of<OrderFailed>(), EventNames.Of<OrderCancelled>(), EventNames.Of<OrderRejected>(),
        EventNames.Of<OrderRefunded>(), EventNames.Of<IWalletEvent>(), EventNames.Of<AlertOpened>(), EventNames.Of<AlertClosed>());

    /// <summary>
    /// Each wallet's state after the revision last seen, so following the log folds each wallet event once; any other revision
    /// (a replay, a restart) reads the stream instead. States are immutable and checked by revision, so sharing is safe.
    /// </summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (long Revision, Wallet State)> wallets = new(StringComparer.Ordinal);

    /// <summary>
    /// The owner an event concerns when its stream says so without reading anything: the partner of a wallet, the admins
    /// (<see cref="WebhookOwners.Admin"/>) for an alert; null for orders.
    /// </summary>
    public static string? PartnerOfStream(string streamId) =>
        streamId.StartsWith(Alert.StreamPrefix, StringComparison.Ordinal) ? WebhookOwners.Admin
        : Wallet.TryParseStreamName(streamId, out var partnerId, out _) ? partnerId : null;

    /// <summary>How many order streams <see cref="DescribeAll"/> reads at once.</summary>
    public const int ConcurrentOrderReads = 8;

    /// <summary>The webhook view of <paramref name="e"/>, or null when it gives no message.</summary>
    public async Task<WebhookEvent?> Describe(RecordedEvent e, CancellationToken ct)
    {
        if (!EventTypes.Contains(e.Type)) return null;
        return registry.Deserialize(e.Type, e.Data.Span) is { } decoded ? await Describe(e, decoded, null, ct) : null;
    }

    /// <summary>
    /// The webhook views of <paramref name="events"/> (null where an event gives no message), as <see cref="Describe(RecordedEvent,
    /// CancellationToken)"/> one by one gives them: the order streams the order messages need are read concurrently (at most
    /// <see cref="ConcurrentOrderReads"/> at once; each is one read of a short stream) unless this process's order cache holds the
    /// order at exactly that revision, wallet and alert events are folded in log order. The bytes are the same either way: the
    /// cached state is the fold of the same events (a replay, through <c>Describe</c>, reads the stream, and a test compares).
    /// </summary>
    public async Task<IReadOnlyList<WebhookEvent?>> DescribeAll(IReadOnlyList<RecordedEvent> events, CancellationToken ct)
    {
        var decoded = events.Select(e => EventTypes.Contains(e.Type) ? registry.Deserialize(e.Type, e.Data.Span) : null).ToArray();
        using var gate = new SemaphoreSlim(ConcurrentOrderReads);
        var orderAt = new Task<Order>?[events.Count];
        for (var i = 0; i < events.Count; i++)
            if (OrderTypeOf(decoded[i]) is not null && Order.TryParseStreamName(events[i].StreamId, out _))
                orderAt[i] = orders is not null && orders.TryCachedAt(events[i].StreamId, events[i].Revision.Value, out var cached)
                    ? Task.FromResult(cached)
                    : ReadGated(events[i].StreamId, events[i].Revision.Value, gate, ct);
        try
        {
            var result = new WebhookEvent?[events.Count];
            for (var i = 0; i < events.Count; i++)
                if (decoded[i] is { } d)
                    result[i] = await Describe(events[i], d, orderAt[i] is { } read ? await read : null, ct);
            return result;
        }
        finally
        {
            // Nothing may still read after an exception (the gate is disposed).
            foreach (var read in orderAt)
                if (read is not null)
                    try { await read; } catch { /* the first failure is what propagates */ }
        }
    }

    private async Task<Order> ReadGated(string streamId, long revision, SemaphoreSlim gate, CancellationToken ct)
    {
        await gate.WaitAsync(ct);
        try { return await OrderAt(streamId, revision, ct); }
        finally { gate.Release(); }
    }

    private static string? OrderTypeOf(object? decoded) => decoded switch
    {
        OrderCompleted c => c.Status == nameof(OrderStatus.PartiallyCompleted) ? WebhookTypes.OrderPartiallyCompleted : WebhookTypes.OrderCompleted,
        OrderFailed => WebhookTypes.OrderFailed,
        OrderCancelled => WebhookTypes.OrderCancelled,
        OrderRejected => WebhookTypes.OrderRejected,
        OrderRefunded => WebhookTypes.OrderRefunded,
        _ => null,
    };

    /// <param name="knownOrder">The order at <paramref name="e"/>'s revision when already read (null: read it here).</param>
    private async Task<WebhookEvent?> Describe(RecordedEvent e, object decoded, Order? knownOrder, CancellationToken ct)
    {
        if (decoded is IAlertEvent alertEvent)
        {
            // One cause's messages go out in stream order (opened before closed), as one order's do.
            var (alertType, alertData) = alertEvent switch
            {
                AlertOpened o => (WebhookTypes.AlertOpened, (object)new { alertId = o.AlertId, kind = o.Kind, subject = o.Subject, details = o.Details,
                    openedAt = o.OpenedAt.ToUniversalTime(), revision = e.Revision.Value }),
                AlertClosed c => (WebhookTypes.AlertClosed, new { alertId = c.AlertId, kind = c.Kind, subject = c.Subject, reason = c.Reason,
                    closedAt = c.ClosedAt.ToUniversalTime(), revision = e.Revision.Value }),
                _ => (null, null!),
            };
            return alertType is null ? null
                : new(e, WebhookOwners.Admin, alertType, e.StreamId, e.Revision.Value, Body(alertType, e, alertData));
        }
        if (decoded is IWalletEvent walletEvent)
        {
            if (!Wallet.TryParseStreamName(e.StreamId, out var partnerId, out var currency)) return null;
            if (decoded is Deposited deposited)
            {
                Remember(e, walletEvent);
                var data = new { partnerId, currency, deposited.TransferId, deposited.Amount, deposited.Reference, revision = e.Revision.Value };
                return new(e, partnerId, WebhookTypes.WalletDeposited, null, 0, Body(WebhookTypes.WalletDeposited, e, data));
            }
            var (before, after) = await WalletAround(e, walletEvent, ct);
            if (!before.CrossesBelowThreshold(after)) return null;
            var low = new { partnerId, currency, available = after.Available, threshold = after.LowBalanceThreshold, revision = e.Revision.Value };
            return new(e, partnerId, WebhookTypes.WalletLowBalance, null, 0, Body(WebhookTypes.WalletLowBalance, e, low));
        }
        if (!Order.TryParseStreamName(e.StreamId, out _)) return null;
        var type = OrderTypeOf(decoded);
        if (type is null) return null;
        var order = knownOrder ?? await OrderAt(e.StreamId, e.Revision.Value, ct);
        if (order.Placed is null) return null;
        var view = OrderView.Of(order, e.Revision.Value);
        return new(e, order.Placed.PartnerId, type, order.Placed.OrderId, e.Revision.Value, Body(type, e, view));
    }

    /// <summary>The wallet just before and just after <paramref name="e"/>.</summary>
    private async Task<(Wallet Before, Wallet After)> WalletAround(RecordedEvent e, IWalletEvent decoded, CancellationToken ct)
    {
        Wallet before;
        if (wallets.TryGetValue(e.StreamId, out var known) && known.Revision == e.Revision.Value - 1) before = known.State;
        else
        {
            before = Wallet.Empty;
            if (e.Revision.Value > 0)
            {
                var slice = await store.ReadStream(e.StreamId, ReadDirection.Forwards, StreamRevision.First, checked((int)e.Revision.Value), ct);
                foreach (var recorded in slice.Events)
                    if (registry.Deserialize(recorded.Type, recorded.Data.Span) is IWalletEvent we) before = Wallet.Evolve(before, we);
            }
        }
        var after = Wallet.Evolve(before, decoded);
        wallets[e.StreamId] = (e.Revision.Value, after);
        return (before, after);
    }

    /// <summary>Keeps the cache in step for an event that needs no comparison (when the state before it is known).</summary>
    private void Remember(RecordedEvent e, IWalletEvent decoded)
    {
        if (wallets.TryGetValue(e.StreamId, out var known) && known.Revision == e.Revision.Value - 1)
            wallets[e.StreamId] = (e.Revision.Value, Wallet.Evolve(known.State, decoded));
    }

    private async Task<Order> OrderAt(string streamId, long revision, CancellationToken ct)
    {
        var slice = await store.ReadStream(streamId, ReadDirection.Forwards, StreamRevision.First, checked((int)(revision + 1)), ct);
        var order = Order.Empty;
        foreach (var recorded in slice.Events)
            if (registry.Deserialize(recorded.Type, recorded.Data.Span) is IOrderEvent oe) order = Order.Evolve(order, oe);
        return order;
    }

    private static string Body(string type, RecordedEvent e, object data) =>
        JsonSerializer.Serialize(new { type, timestamp = e.Metadata.RecordedAt.ToUniversalTime(), data }, Json);

    public static string TestBody(string endpointId, DateTimeOffset at) =>
        JsonSerializer.Serialize(new { type = WebhookTypes.Test, timestamp = at.ToUniversalTime(), data = new { endpointId } }, Json);
}

/// <summary>
/// The subscription to the global log that creates messages: for each event that concerns a partner's enabled endpoint (of
/// its types, recorded after the endpoint was created) one pending message per endpoint, id derived from (event, endpoint).
/// It runs as a process manager (own checkpoint, no transaction open); a batch repeated after a crash inserts nothing twice.
/// </summary>
public sealed class WebhookMessageFollower(WebhookEvents events, WebhookStore store, Steller.Application.Time.IClock clock, WebhookSignal signal)
    : Engine.IProcessManager
{
    public string Name => "webhook_messages";
    public IReadOnlySet<string> EventTypes => events.EventTypes;

    public async Task Handle(IReadOnlyList<RecordedEvent> batch, CancellationToken ct)
    {
        var endpoints = (await store.All(ct)).Where(e => e.Enabled).ToList();
        if (endpoints.Count == 0) return;
        var earliest = endpoints.Min(e => e.CreatedAt);
        var owners = endpoints.Select(ep => ep.PartnerId).ToHashSet(StringComparer.Ordinal);
        var relevant = batch.Where(e => e.Metadata.RecordedAt.UtcDateTime >= earliest
            && (WebhookEvents.PartnerOfStream(e.StreamId) is not { } owner || owners.Contains(owner))).ToList();
        var messages = new List<NewWebhookMessage>();
        foreach (var described in await events.DescribeAll(relevant, ct))
            if (described is not null)
                messages.AddRange(endpoints.Where(ep => described.Concerns(ep) && described.Event.Metadata.RecordedAt.UtcDateTime >= ep.CreatedAt)
                    .Select(described.For));
        if (await store.Add(messages, clock.UtcNow, ct) > 0) signal.Wake();
    }
}
