using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Prometheus;
using Steller.Application.Vendors;

namespace Steller.Infrastructure.Vendors;

/// <summary>
/// Spends a slow gift-card vendor's request budget well: the gift-card protocol takes several products in one checkout,
/// so order lines that wait for the vendor leave together. One sender sends one checkout at a time; the next checkout
/// carries whatever queued meanwhile (up to <c>Vendors:GiftCard:MaxLinesPerCheckout</c>, one currency per checkout),
/// so a quiet vendor sees one line per checkout, under the line's own request id, exactly as without batching, and a
/// vendor at its rate limit sees few, full checkouts.
/// <para>
/// Never twice: a checkout of several lines gets a request id of its own, and which line is which item of it is written to
/// <see cref="CheckoutBatchBook"/> before it is sent. A line that may have been sent (a crash, a lost answer, a failed
/// attempt) is looked up there: it is followed in its batch, or, when the vendor never got the batch, the same batch is
/// sent again under the same request id, which the vendor never places twice. A checkout the vendor refuses outright
/// (one bad line fails the whole request) is forgotten and its lines are sent one by one, so one line cannot fail others.
/// Reading a batch's status is shared by its lines: one status request per batch, not one per line.
/// </para>
/// </summary>
public sealed class GiftCardCheckoutBatcher(CheckoutBatchBook book, int maxLinesPerCheckout, ILogger<GiftCardCheckoutBatcher> log)
    : IDisposable
{
    public static readonly Histogram LinesPerCheckout = Metrics.CreateHistogram("steller_vendor_checkout_lines",
        "Order lines per gift-card checkout (batching: more than one when lines wait for the vendor's budget).",
        new HistogramConfiguration { Buckets = [1, 2, 5, 10, 20, 50, 100] });

    /// <summary>A status read of a batch is shared by every line asking within this long.</summary>
    public static readonly TimeSpan StatusReuse = TimeSpan.FromMilliseconds(250);
    /// <summary>A final status is kept for the batch's lines at most this long (it holds card codes in memory).</summary>
    public static readonly TimeSpan FinalKeep = TimeSpan.FromMinutes(5);
    private const int KnownLinesLimit = 100_000;

    private sealed record Waiting(VendorPurchase Purchase, GiftCardVendorClient Client, TaskCompletionSource<VendorPurchaseResult> Done);
    private sealed record StatusRead(Task<VendorOrder?> Read, DateTime At, ConcurrentDictionary<string, bool> TakenFinal);

    private readonly Lock gate = new();
    private readonly List<Waiting> queue = [];
    private readonly SemaphoreSlim arrived = new(0);
    private readonly CancellationTokenSource stopping = new();
    private Task? sender;
    /// <summary>Lines this process knows: their batch, or null for a line sent on its own.</summary>
    private readonly ConcurrentDictionary<string, CheckoutBatch?> known = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<CheckoutResend>>> resending = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, StatusRead> statuses = new(StringComparer.Ordinal);

    public int MaxLinesPerCheckout { get; } = Math.Max(1, maxLinesPerCheckout);

    /// <summary>Queues a line that has never been sent; completes with what its checkout answered for it.</summary>
    public Task<VendorPurchaseResult> Enqueue(VendorPurchase purchase, GiftCardVendorClient client, CancellationToken ct)
    {
        var done = new TaskCompletionSource<VendorPurchaseResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (gate)
        {
            queue.Add(new Waiting(purchase, client, done));
            sender ??= Task.Run(() => Send(stopping.Token));
        }
        arrived.Release();
        return done.Task.WaitAsync(ct);
    }

    /// <summary>The batch a line went out in (this process's memory first, then the book); null for a line sent alone.</summary>
    public async Task<CheckoutBatch?> BatchOf(string lineRequestId, CancellationToken ct)
    {
        if (known.TryGetValue(lineRequestId, out var batch)) return batch;
        batch = await book.Find(lineRequestId, ct);
        if (batch is not null) Remember(batch);
        else Remember(lineRequestId, null);
        return batch;
    }

    /// <summary>The line's item in its batch, from a status read shared with the batch's other lines.</summary>
    public async Task<VendorPurchaseResult> StatusIn(CheckoutBatch batch, string lineRequestId, GiftCardVendorClient client,
        CancellationToken ct)
    {
        var index = batch.IndexOf(lineRequestId);
        var read = SharedStatus(batch, client);
        var order = await read.Read.WaitAsync(ct);
        if (order is null) return GiftCardVendorClient.NeverSubmitted;
        var result = order.Item(index, batch.Items[index].Quantity);
        if (result.Status != VendorPurchaseStatus.Processing) TookFinal(batch, read, lineRequestId);
        return result;
    }

    /// <summary>
    /// A line of <paramref name="batch"/> that may have been sent: follow the batch when the vendor has it, send the same
    /// batch again when it does not (once for all its lines), or send the line alone when the vendor refused the batch.
    /// </summary>
    public async Task<VendorPurchaseResult> Resend(CheckoutBatch batch, VendorPurchase purchase, GiftCardVendorClient client,
        CancellationToken ct)
    {
        var resend = resending.GetOrAdd(batch.RequestId, _ => new Lazy<Task<CheckoutResend>>(() => ResendBatch(batch, client)));
        CheckoutResend outcome;
        try { outcome = await resend.Value.WaitAsync(ct); }
        finally { resending.TryRemove(new KeyValuePair<string, Lazy<Task<CheckoutResend>>>(batch.RequestId, resend)); }
        return outcome switch
        {
            CheckoutResend.Refused => await client.SubmitOne(purchase with { MayHaveBeenSent = false }, ct),
            CheckoutResend.Found found => found.Order.Item(batch.IndexOf(purchase.RequestId), purchase.Quantity),
            _ => await StatusIn(batch, purchase.RequestId, client, ct),
        };
    }

    private abstract record CheckoutResend
    {
        public sealed record Found(VendorOrder Order) : CheckoutResend;
        public sealed record Sent : CheckoutResend;
        public sealed record Refused : CheckoutResend;
    }

    private async Task<CheckoutResend> ResendBatch(CheckoutBatch batch, GiftCardVendorClient client)
    {
        if (await client.FindOrder(batch.RequestId, CancellationToken.None) is { } order) return new CheckoutResend.Found(order);
        log.LogInformation("giftcard checkout {RequestId} ({Lines} lines) never reached the vendor; sending the same checkout again",
            batch.RequestId, batch.Items.Count);
        switch (await client.Checkout(batch.RequestId, batch.Items, CancellationToken.None))
        {
            case GiftCardVendorClient.CheckoutOutcome.Rejected:
                await Forget(batch);
                return new CheckoutResend.Refused();
            case GiftCardVendorClient.CheckoutOutcome.Known known:
                return new CheckoutResend.Found(known.Order);
            default:
                return new CheckoutResend.Sent();
        }
    }

    /// <summary>The one sender: takes what queued (one currency, up to the limit) and sends it as one checkout.</summary>
    private async Task Send(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try { await arrived.WaitAsync(stop); }
            catch (OperationCanceledException) { return; }
            List<Waiting> taken;
            lock (gate)
            {
                if (queue.Count == 0) continue;
                var currency = queue[0].Purchase.Currency;
                taken = queue.Where(w => w.Purchase.Currency == currency).Take(MaxLinesPerCheckout).ToList();
                foreach (var w in taken) queue.Remove(w);
            }
            // The semaphore counts arrivals; the lines taken beyond the first were counted too.
            for (var i = 1; i < taken.Count; i++) arrived.Wait(0);
            LinesPerCheckout.Observe(taken.Count);
            try
            {
                if (taken.Count == 1) await SendAlone(taken[0]);
                else await SendTogether(taken);
            }
            catch (Exception e)
            {
                foreach (var w in taken) w.Done.TrySetException(e);
            }
        }
    }

    private async Task SendAlone(Waiting w)
    {
        Remember(w.Purchase.RequestId, null);
        w.Done.TrySetResult(await w.Client.SubmitOne(w.Purchase, stopping.Token));
    }

    private async Task SendTogether(List<Waiting> taken)
    {
        var batch = new CheckoutBatch(Guid.NewGuid().ToString(), taken.Select(w => new CheckoutItem(w.Purchase.RequestId,
            w.Purchase.VendorProductId, w.Purchase.Quantity, w.Purchase.FaceValue, w.Purchase.Currency)).ToList());
        var client = taken[0].Client;
        try
        {
            await book.Record(VendorKinds.GiftCard, batch, stopping.Token);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Nothing left: the lines stay unsent and are tried again (the vendor is not at fault, but the effect is the same).
            throw new VendorUnavailableException(VendorKinds.GiftCard, $"the checkout of {taken.Count} lines could not be recorded: {e.Message}", e);
        }
        Remember(batch);
        var outcome = await client.Checkout(batch.RequestId, batch.Items, stopping.Token);
        switch (outcome)
        {
            case GiftCardVendorClient.CheckoutOutcome.Rejected rejected:
                // One bad line refuses the whole request; nothing was created. Each line goes out alone and answers for itself.
                log.LogWarning("giftcard checkout {RequestId} of {Lines} lines refused ({Reason}); sending its lines one by one",
                    batch.RequestId, taken.Count, rejected.Reason);
                await Forget(batch);
                await Task.WhenAll(taken.Select(async w =>
                {
                    try { await SendAlone(w); }
                    catch (Exception e) { w.Done.TrySetException(e); }
                }));
                return;
            case GiftCardVendorClient.CheckoutOutcome.Known known:
                foreach (var (w, i) in taken.Select((w, i) => (w, i))) w.Done.TrySetResult(known.Order.Item(i, w.Purchase.Quantity));
                return;
            case GiftCardVendorClient.CheckoutOutcome.AlreadyPlaced:
                foreach (var w in taken) w.Done.TrySetResult(await StatusIn(batch, w.Purchase.RequestId, client, stopping.Token));
                return;
            default:
                foreach (var w in taken) w.Done.TrySetResult(new VendorPurchaseResult(VendorPurchaseStatus.Processing, 0, [], null));
                return;
        }
    }

    private StatusRead SharedStatus(CheckoutBatch batch, GiftCardVendorClient client)
    {
        while (true)
        {
            var now = DateTime.UtcNow;
            if (statuses.TryGetValue(batch.RequestId, out var read))
            {
                var reusable = !read.Read.IsCompleted
                    || (read.Read.IsCompletedSuccessfully && read.Read.Result is { Status: not VendorPurchaseStatus.Processing }
                        ? now - read.At < FinalKeep : now - read.At < StatusReuse);
                if (reusable) return read;
                var fresh = new StatusRead(client.FindOrder(batch.RequestId, CancellationToken.None), now, read.TakenFinal);
                if (statuses.TryUpdate(batch.RequestId, fresh, read)) return fresh;
            }
            else
            {
                var fresh = new StatusRead(client.FindOrder(batch.RequestId, CancellationToken.None), now, new(StringComparer.Ordinal));
                if (statuses.TryAdd(batch.RequestId, fresh)) return fresh;
            }
        }
    }

    /// <summary>Once every line of a batch has taken its final answer, the answer (with its card codes) is dropped.</summary>
    private void TookFinal(CheckoutBatch batch, StatusRead read, string lineRequestId)
    {
        read.TakenFinal[lineRequestId] = true;
        known.TryRemove(lineRequestId, out _);
        if (read.TakenFinal.Count >= batch.Items.Count) statuses.TryRemove(batch.RequestId, out _);
        if (statuses.Count > 1_000)
            foreach (var (id, r) in statuses)
                if (DateTime.UtcNow - r.At > FinalKeep) statuses.TryRemove(id, out _);
    }

    private async Task Forget(CheckoutBatch batch)
    {
        await book.Forget(batch.RequestId, CancellationToken.None);
        foreach (var item in batch.Items) known.TryRemove(item.LineRequestId, out _);
    }

    private void Remember(CheckoutBatch batch)
    {
        foreach (var item in batch.Items) Remember(item.LineRequestId, batch);
    }

    private void Remember(string lineRequestId, CheckoutBatch? batch)
    {
        if (known.Count >= KnownLinesLimit) known.Clear(); // a cache: the book answers what it forgot
        known[lineRequestId] = batch;
    }

    public void Dispose()
    {
        stopping.Cancel();
        lock (gate)
            foreach (var w in queue) w.Done.TrySetCanceled();
    }
}
