using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Steller.Client;
using Steller.Domain.Orders;

namespace Steller.Cli.Tests.Simulation;

/// <summary>What a client got back for one request (after retrying connection failures, timeouts, 429s and 5xx).</summary>
public sealed record Answer(int Status, string? Code, string? OrderId, int Attempts, IReadOnlyList<int> Retried);

/// <summary>
/// Plays a <see cref="Scenario"/> against a <see cref="SimulationWorld"/>: sets up its partners and stock, scripts the vendor,
/// runs its steps and faults concurrently at their times, waits until its orders end, then does its follow-ups and waits again.
/// Clients behave like careful partners: a request that got no answer (connection refused, timeout, 5xx, 429) is sent
/// again, unchanged, to the next node, so every money and order command is repeated under its idempotency id.
/// </summary>
public sealed class ScenarioRun(SimulationWorld world, Scenario scenario, IReadOnlySet<string> quarantined)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60), Settling = TimeSpan.FromSeconds(120);
    private readonly Dictionary<string, HttpClient> partners = new(StringComparer.Ordinal);

    /// <summary>Every answer to each order's placement, by client reference (several for duplicates).</summary>
    public ConcurrentDictionary<string, ConcurrentBag<Answer>> Placements { get; } = new(StringComparer.Ordinal);
    /// <summary>Every answer to a follow-up (retry, refund), by client reference.</summary>
    public ConcurrentDictionary<string, ConcurrentBag<Answer>> FollowUpAnswers { get; } = new(StringComparer.Ordinal);
    /// <summary>Every 500 answer (method, path, body): Steller never answers 500, even to a request it cannot serve now.</summary>
    public ConcurrentQueue<string> InternalErrors { get; } = new();
    /// <summary>Each subscribed partner's webhook endpoint id.</summary>
    public ConcurrentDictionary<string, string> WebhookEndpoints { get; } = new(StringComparer.Ordinal);
    /// <summary>What happened, in the order it happened (printed with a failure).</summary>
    public ConcurrentQueue<string> Log { get; } = new();
    private readonly Stopwatch clock = new();

    public string OrderIdOf(string clientReference) =>
        Order.IdFor(scenario.Orders.First(o => o.ClientReference == clientReference).PartnerId, clientReference);

    /// <summary>How long each phase took (set-up, steps, settling, follow-ups), for the run's summary line.</summary>
    public List<(string Phase, TimeSpan Took)> Phases { get; } = [];

    public async Task Run()
    {
        var phase = Stopwatch.StartNew();
        await SetUp();
        await ScriptVendor();
        Phases.Add(("setup", phase.Elapsed));
        clock.Start();
        phase.Restart();
        var steps = scenario.Steps.Select((step, i) => At(step.AtMs, () => Do(step, i)));
        var faults = scenario.Faults.Select(fault => At(fault.AtMs, () => Inflict(fault)));
        await Task.WhenAll(steps.Concat(faults));
        Phases.Add(("steps", phase.Elapsed));
        Note("steps and faults done");
        phase.Restart();
        await SettleOrders();
        Phases.Add(("settle", phase.Elapsed));
        if (scenario.FollowUps.Count > 0)
        {
            phase.Restart();
            await Task.WhenAll(scenario.FollowUps.Select(FollowUp));
            await SettleOrders();
            Phases.Add(("follow-ups", phase.Elapsed));
        }
    }

    private async Task SetUp()
    {
        var stocked = SetUpStock();
        var clients = await Task.WhenAll(scenario.Partners.Select(async (p, i) =>
        {
            await AdminCall(HttpMethod.Post, "/admin/partners", new { partnerId = p.Id, name = p.Id, contactEmail = $"ops@{p.Id}.test" }, i, ok409: true);
            await AdminCall(HttpMethod.Post, $"/admin/partners/{p.Id}/wallets", new { currency = "EUR" }, i, ok409: true);
            if (p.CreditLimit > 0) await AdminCall(HttpMethod.Put, $"/admin/partners/{p.Id}/wallets/EUR/credit-limit", new { limit = p.CreditLimit }, i);
            if (p.Deposit > 0)
                await AdminCall(HttpMethod.Post, $"/admin/partners/{p.Id}/wallets/EUR/deposits", new { amount = p.Deposit, reference = "seed" }, i,
                    idempotencyKey: $"{p.Id}-seed");
            var key = await AdminCall(HttpMethod.Post, $"/admin/partners/{p.Id}/api-keys", null, i);
            var json = JsonDocument.Parse(key.Body).RootElement;
            var http = new HttpClient(new SigningHandler(json.GetProperty("keyId").GetString()!, json.GetProperty("secret").GetString()!,
                world.Time, new SocketsHttpHandler())) { Timeout = TimeSpan.FromSeconds(20) };
            if (scenario.Webhooks.FirstOrDefault(w => w.PartnerId == p.Id) is { } webhook) await Subscribe(http, webhook, i);
            return (p.Id, Http: http);
        }));
        foreach (var (id, http) in clients) partners[id] = http;
        await stocked;
    }

    /// <summary>
    /// The partner registers its endpoint (signed /v1) before any of its orders exists, so every order event gives a message.
    /// Sent once: a registration is not idempotent, and nothing is failing yet.
    /// </summary>
    private async Task Subscribe(HttpClient http, SimWebhook webhook, int node)
    {
        string[]? types = webhook.AllTypes ? null
            : ["order.completed", "order.partially_completed", "order.failed", "order.cancelled", "order.rejected", "order.refunded"];
        using var response = await http.PostAsync(new Uri(world.Urls[(scenario.Seed + node) % world.Urls.Length], "/v1/webhook-endpoints"),
            JsonContent.Create(new { url = world.Receiver.UrlFor(scenario.Seed, webhook.PartnerId), eventTypes = types, description = "simulation" }));
        var text = await response.Content.ReadAsStringAsync();
        if ((int)response.StatusCode != 201) throw new InvalidOperationException($"POST /v1/webhook-endpoints for {webhook.PartnerId}: {(int)response.StatusCode} {text}");
        var json = JsonDocument.Parse(text).RootElement;
        world.Receiver.Register(scenario.Seed, webhook.PartnerId, json.GetProperty("secret").GetString()!, webhook);
        WebhookEndpoints[webhook.PartnerId] = json.GetProperty("id").GetString()!;
    }

    private async Task SetUpStock()
    {
        if (scenario.Stock is { } stock)
        {
            await AdminCall(HttpMethod.Put, $"/admin/catalog/products/{stock.Sku}", new
            {
                name = stock.Sku, brand = "Sim", country = "DE", currency = "EUR", type = "voucher", faceValue = stock.FaceValue, costAmount = stock.UnitCost,
            }, 0);
            if (stock.InitialUnits > 0) await Receive(stock, "r1", stock.InitialUnits, 0);
            // Orders find stocked units through read.stock_levels: start once it knows them.
            await Settle(async () => stock.InitialUnits == 0
                || await world.Db.Scalar<long>($"select count(*) from read.stock_levels where sku = '{stock.Sku}'") > 0, "the stock is projected");
        }
    }

    /// <summary>Each vendor fault as a simulator script aimed at the request id of its order's line (round 0).</summary>
    private async Task ScriptVendor()
    {
        foreach (var f in scenario.VendorFaults)
        {
            var requestId = Order.RequestIdOf(OrderIdOf(f.ClientReference), f.LineNo);
            await world.Simulator.Script(new
            {
                vendor = "giftcard", operation = "checkout", action = f.Action, times = f.Times, requestId,
                status = f.Status == 0 ? 503 : f.Status, retryAfterSeconds = f.Status == 429 ? 1 : (int?)null,
                delayMs = f.DelayMs, delivered = f.Delivered, polls = f.Polls, reason = f.Action == "reject" ? "ProductUnavailable" : null,
            });
        }
    }

    private async Task At(int atMs, Func<Task> action)
    {
        var wait = TimeSpan.FromMilliseconds(atMs) - clock.Elapsed;
        if (wait > TimeSpan.Zero) await Task.Delay(wait);
        await action();
    }

    private Task Do(Step step, int index) => step switch
    {
        PlaceOrder o => Task.WhenAll(Enumerable.Range(0, o.Copies).Select(copy => Place(o, index + copy))),
        PlaceHold h => AdminCall(HttpMethod.Post, $"/admin/partners/{h.PartnerId}/wallets/EUR/holds",
            new { transferId = h.TransferId, amount = h.Amount, expiresAt = world.Time.GetUtcNow().AddMinutes(h.ExpiresInMinutes) }, index, ok4xx: true),
        Reserve r => AdminCall(HttpMethod.Post, $"/admin/inventory/{scenario.Stock!.Sku}/main/reservations",
            new { reservationId = r.ReservationId, quantity = r.Quantity, orderId = $"{scenario.Prefix}-manual",
                expiresAt = world.Time.GetUtcNow().AddMinutes(r.ExpiresInMinutes) }, index, ok4xx: true),
        ReceiveStock r => ReceiveTwice(r, index),
        MoveStock m => AdminCall(HttpMethod.Post, $"/admin/inventory/{scenario.Stock!.Sku}/main/transfers",
            new { transferId = m.TransferId, toLocation = "shop", quantity = m.Quantity }, index, ok4xx: true),
        MoveMoney m => MoveMoneyTwice(m, index),
        _ => throw new ArgumentOutOfRangeException(nameof(step), step, "an unknown step"),
    };

    private async Task ReceiveTwice(ReceiveStock r, int index)
    {
        await Receive(scenario.Stock!, r.ReceiptId, r.Quantity, index);
        if (r.Twice) await Receive(scenario.Stock!, r.ReceiptId, r.Quantity, index + 1);
    }

    private Task<(int Status, string Body, Answer Answer)> Receive(SimStock stock, string receiptId, int quantity, int node) =>
        AdminCall(HttpMethod.Post, $"/admin/inventory/{stock.Sku}/main/receipts", new
        {
            receiptId, quantity, unitCost = stock.UnitCost, currency = "EUR",
            voucherCodes = Enumerable.Range(1, quantity).Select(n => $"{scenario.Prefix}-{receiptId}-{n}").ToArray(),
        }, node);

    private async Task MoveMoneyTwice(MoveMoney m, int index)
    {
        var body = new { transferId = m.TransferId, toPartnerId = m.To, amount = m.Amount };
        await AdminCall(HttpMethod.Post, $"/admin/partners/{m.From}/wallets/EUR/transfers", body, index, ok4xx: true);
        if (m.Twice) await AdminCall(HttpMethod.Post, $"/admin/partners/{m.From}/wallets/EUR/transfers", body, index + 1, ok4xx: true);
    }

    private async Task Place(PlaceOrder order, int node)
    {
        var body = new
        {
            clientReference = order.ClientReference,
            lines = order.Lines.Select(l => new { sku = l.Sku, quantity = l.Quantity, faceValue = l.FaceValue }).ToArray(),
        };
        var (_, _, answer) = await Send(partners[order.PartnerId], HttpMethod.Post, "/v1/orders", body, node, null);
        Placements.GetOrAdd(order.ClientReference, _ => []).Add(answer);
        Note($"order {order.ClientReference}: {answer.Status} {answer.Code}{(answer.Attempts > 1 ? $" after {answer.Attempts} attempts ({string.Join(",", answer.Retried)})" : "")}");
    }

    private async Task Inflict(Fault fault)
    {
        switch (fault)
        {
            case KillNode k:
                world.Kill(k.Node);
                Note($"killed node {k.Node + 1}");
                await Task.Delay(k.RestartAfterMs);
                // Started in the background: the scenario goes on with the other node meanwhile (the next one waits for it).
                world.RestartInBackground(k.Node, () => Note($"node {k.Node + 1} is listening again"));
                Note($"restarting node {k.Node + 1}");
                break;
            case DropConnections d when quarantined.Contains("drop-connections"):
                Note($"not dropping node {d.Node + 1}'s database connections: the fault is quarantined ({SimulationPlan.Quarantine})");
                break;
            case DropConnections d:
                Note($"dropped {await world.DropConnections(d.Node)} database session(s) of node {d.Node + 1}");
                break;
            case ClockJump j:
                world.JumpClock(TimeSpan.FromMinutes(j.Minutes));
                Note($"clock +{j.Minutes} min");
                break;
        }
    }

    private async Task FollowUp(FollowUp followUp)
    {
        var orderId = OrderIdOf(followUp.ClientReference);
        var order = await Folds.Order(world.Db, orderId);
        var node = scenario.Seed & 1;
        switch (followUp)
        {
            case RetryIfFailed r when order.Status == OrderStatus.Failed:
                await Task.WhenAll(Enumerable.Range(0, r.Copies).Select(async copy =>
                {
                    var (_, _, answer) = await AdminCall(HttpMethod.Post, $"/admin/orders/{orderId}/retry", new { reason = "simulation" }, node + copy, ok4xx: true);
                    FollowUpAnswers.GetOrAdd(r.ClientReference, _ => []).Add(answer);
                    Note($"retry {r.ClientReference}: {answer.Status} {answer.Code}");
                }));
                break;
            case Refund f when order.Status is OrderStatus.Completed or OrderStatus.PartiallyCompleted && order.Completion!.Captured > 0:
                var amount = Math.Max(1, order.Completion.Captured * f.Permille / 1000);
                await Task.WhenAll(Enumerable.Range(0, f.Copies).Select(async copy =>
                {
                    var (_, _, answer) = await AdminCall(HttpMethod.Post, $"/admin/orders/{orderId}/refunds",
                        new { refundId = f.RefundId, amount, reason = "simulation" }, node + copy, ok4xx: true);
                    FollowUpAnswers.GetOrAdd(f.ClientReference, _ => []).Add(answer);
                    Note($"refund {f.ClientReference} {amount}: {answer.Status} {answer.Code}");
                }));
                break;
        }
    }

    /// <summary>Waits until every order of the scenario that exists has ended (a terminal status).</summary>
    private async Task SettleOrders()
    {
        var open = new List<string>();
        var ended = await Settle(async () =>
        {
            open.Clear();
            foreach (var o in scenario.Orders)
            {
                var order = await Folds.Order(world.Db, Order.IdFor(o.PartnerId, o.ClientReference));
                if (order.Status != OrderStatus.None && !order.IsTerminal) open.Add($"{o.ClientReference} {order.Status}");
            }
            return open.Count == 0;
        }, "every order ended");
        Note(ended ? "every order ended" : $"still open after {Settling.TotalSeconds:0} s: {string.Join(", ", open)}");
    }

    private async Task<bool> Settle(Func<Task<bool>> done, string what)
    {
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < Settling)
        {
            if (await done()) return true;
            await Task.Delay(200);
        }
        Note($"gave up waiting until {what}");
        return false;
    }

    private async Task<(int Status, string Body, Answer Answer)> AdminCall(HttpMethod method, string path, object? body, int node,
        bool ok409 = false, bool ok4xx = false, string? idempotencyKey = null)
    {
        var result = await Send(world.Admin, method, path, body, node, idempotencyKey);
        var status = result.Answer.Status;
        if (status >= 400 && !(ok409 && status == 409) && !(ok4xx && status < 500))
            throw new InvalidOperationException($"{method} {path}: {status} {result.Body}");
        if (status >= 400) Note($"{method} {path}: {status} {result.Answer.Code}");
        return result;
    }

    /// <summary>
    /// Sends until there is an answer that is not "try again": connection refused or reset (the node is down: the next
    /// node), a timeout, 429 or 5xx are repeated, unchanged, for up to a minute; the last answer is returned.
    /// </summary>
    private async Task<(int Status, string Body, Answer Answer)> Send(HttpClient http, HttpMethod method, string path, object? body, int node,
        string? idempotencyKey)
    {
        var waited = Stopwatch.StartNew();
        var retried = new List<int>();
        for (var attempt = 0; ; attempt++)
        {
            var url = new Uri(world.Urls[(scenario.Seed + node + attempt) % world.Urls.Length], path);
            using var request = new HttpRequestMessage(method, url);
            if (body is not null) request.Content = JsonContent.Create(body);
            if (idempotencyKey is not null) request.Headers.Add("Idempotency-Key", idempotencyKey);
            int status;
            string text;
            try
            {
                using var response = await http.SendAsync(request);
                status = (int)response.StatusCode;
                text = await response.Content.ReadAsStringAsync();
                if (status == 500) InternalErrors.Enqueue($"{method} {path}: {text}");
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && waited.Elapsed < Patience)
            {
                retried.Add(0);
                await Task.Delay(100);
                continue;
            }
            if ((status == 429 || status >= 500) && waited.Elapsed < Patience)
            {
                retried.Add(status);
                await Task.Delay(300);
                continue;
            }
            string? code = null, orderId = null;
            try
            {
                var json = JsonDocument.Parse(text).RootElement;
                if (json.ValueKind == JsonValueKind.Object)
                {
                    if (json.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.String) code = c.GetString();
                    if (json.TryGetProperty("orderId", out var o) && o.ValueKind == JsonValueKind.String) orderId = o.GetString();
                }
            }
            catch (JsonException) { }
            return (status, text, new Answer(status, code, orderId, attempt + 1, retried));
        }
    }

    private void Note(string what) => Log.Enqueue($"{clock.ElapsedMilliseconds,6} ms  {what}");
}
