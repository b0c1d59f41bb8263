using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using FluentAssertions;
using NUnit.Framework;
using Steller.Client;
using Steller.Domain.Orders;
using Steller.Testing;

namespace Steller.Cli.Tests.Webhooks;

/// <summary>
/// kill -9 of the API during a burst of orders with webhook deliveries in flight; after the restart every order's terminal message
/// reaches the receiver at least once, a repeat carries the same webhook-id and body, and no order's messages arrive out of order.
/// </summary>
public sealed class WebhookCrashTests
{
    private const int Orders = 300;
    private static readonly string[] TerminalTypes = ["order.completed", "order.partially_completed", "order.failed", "order.cancelled", "order.rejected"];

    private sealed record Arrival(string WebhookId, string OrderId, string Type, long Revision, string Body);

    [Test, CancelAfter(420_000)]
    public async Task killing_the_api_during_a_burst_of_orders_loses_no_terminal_message_and_delivers_none_out_of_order()
    {
        await using var db = await TestDatabase.Create("webhookkill");
        var env = new Dictionary<string, string?>
        {
            ["STELLER__Database__ConnectionString"] = db.ConnectionString,
            ["STELLER__Security__MasterKey"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)),
            ["STELLER__Orders__PollIntervalMilliseconds"] = "200",
            ["STELLER__Webhooks__AllowPrivateTargets"] = "true",
            ["STELLER__Webhooks__PollMilliseconds"] = "100",
        };
        using var receiver = new Receiver();
        const string partnerId = "wh-kill";
        const string sku = "voucher-wh-kill";

        var api = await StellerProcess.StartApi(env);
        using var firstProcess = api.Process;
        using var http = new HttpClient { BaseAddress = api.Url, Timeout = TimeSpan.FromSeconds(120) }; // a loaded machine: the 300-code receipt takes a while
        await Admin.Authorize(http, db);
        using var partner = await Onboard(http, partnerId, Orders * 10_00L);
        (await http.PutAsJsonAsync($"/admin/catalog/products/{sku}", new
        {
            name = "Crash voucher", brand = "Cinema", country = "DE", currency = "EUR", type = "voucher", faceValue = 10_00, costAmount = 8_00,
        })).EnsureSuccessStatusCode();
        (await http.PostAsJsonAsync($"/admin/inventory/{sku}/main/receipts", new
        {
            receiptId = "r1", quantity = Orders, unitCost = 8_00, currency = "EUR",
            voucherCodes = Enumerable.Range(0, Orders).Select(i => $"WK-{i:D5}").ToArray(),
        })).EnsureSuccessStatusCode();
        await Eventually.True(async () => await db.Scalar<long>($"select count(*) from read.stock_levels where sku = '{sku}'") == 1,
            TimeSpan.FromSeconds(60), "the stock is projected");
        var endpoint = await partner.Http.PostAsJsonAsync("v1/webhook-endpoints", new
        {
            url = receiver.Url, eventTypes = new[] { "order.completed", "order.partially_completed", "order.failed", "order.cancelled", "order.rejected", "order.refunded" },
        });
        endpoint.StatusCode.Should().Be(HttpStatusCode.Created, await endpoint.Content.ReadAsStringAsync());

        // The burst: 8 workers place the orders; every third order is refunded once complete (a second message that must follow the first).
        var next = -1;
        var done = 0;
        var burst = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            for (var i = Interlocked.Increment(ref next); i < Orders; i = Interlocked.Increment(ref next))
            {
                var reference = $"wk-{i}";
                var orderId = Order.IdFor(partnerId, reference);
                await Retry(() => partner.PlaceOrder(reference, [new NewOrderLine(sku, 1, 10_00)]));
                if (i % 3 == 0)
                {
                    await Retry(async () =>
                    {
                        var order = await http.GetFromJsonAsync<JsonElement>($"/admin/orders/{orderId}");
                        if (order.GetProperty("status").GetString() != "Completed") throw new HttpRequestException("not completed yet");
                    });
                    await Retry(async () =>
                    {
                        var refund = await http.PostAsJsonAsync($"/admin/orders/{orderId}/refunds", new { refundId = $"rf-{i}", amount = 1_00, reason = "test" });
                        if ((int)refund.StatusCode is not (200 or 201)) throw new HttpRequestException($"refund answered {(int)refund.StatusCode}");
                    });
                }
                Interlocked.Increment(ref done);
            }
        })).ToArray();

        await Eventually.True(() => Task.FromResult(receiver.Arrivals.Count >= 60), TimeSpan.FromSeconds(180), "deliveries are under way");
        var placedBeforeKill = Volatile.Read(ref done);
        api.Process.Kill(); // SIGKILL: deliveries, placements and refunds in flight
        var receivedBeforeKill = receiver.Arrivals.Count;
        await Task.Delay(500);
        var restarted = await StellerProcess.StartApi(env, api.Url.Port);
        using var secondProcess = restarted.Process;
        await Task.WhenAll(burst).WaitAsync(TimeSpan.FromSeconds(240));
        TestContext.Out.WriteLine($"killed with {placedBeforeKill}/{Orders} orders done and {receivedBeforeKill} messages received");
        placedBeforeKill.Should().BeLessThan(Orders, "the kill hit the middle of the burst");

        var orderIds = Enumerable.Range(0, Orders).Select(i => Order.IdFor(partnerId, $"wk-{i}")).ToList();
        await Eventually.True(() =>
        {
            var arrived = receiver.Arrivals.ToArray();
            return Task.FromResult(orderIds.All(id => arrived.Any(a => a.OrderId == id && TerminalTypes.Contains(a.Type)))
                                   && Enumerable.Range(0, Orders).Where(i => i % 3 == 0)
                                       .All(i => arrived.Any(a => a.OrderId == orderIds[i] && a.Type == "order.refunded")));
        }, TimeSpan.FromSeconds(180), "every order's terminal message (and every refund's) reached the receiver");

        var arrivals = receiver.Arrivals.ToArray();
        TestContext.Out.WriteLine($"{arrivals.Length} arrivals, {arrivals.Select(a => a.WebhookId).Distinct().Count()} distinct messages");
        foreach (var sameId in arrivals.GroupBy(a => a.WebhookId))
            sameId.Select(a => a.Body).Distinct().Should().ContainSingle($"a repeat of {sameId.Key} carries the same body");
        foreach (var sameMessage in arrivals.GroupBy(a => (a.OrderId, a.Type, a.Revision)))
            sameMessage.Select(a => a.WebhookId).Distinct().Should().ContainSingle($"{sameMessage.Key} is one message with one webhook-id");
        foreach (var order in arrivals.GroupBy(a => a.OrderId))
        {
            var revisions = order.Select(a => a.Revision).ToArray();
            revisions.Should().BeInAscendingOrder($"order {order.Key}'s messages arrive in stream order");
        }
    }

    private static async Task Retry(Func<Task> action)
    {
        for (var attempt = 0; ; attempt++)
        {
            try { await action(); return; }
            catch (Exception e) when (e is not AssertionException && attempt < 600)
            {
                await Task.Delay(200); // the server is gone or the order is not there yet
            }
        }
    }

    private static async Task<StellerClient> Onboard(HttpClient admin, string id, long funds)
    {
        (await admin.PostAsJsonAsync("/admin/partners", new { partnerId = id, name = id, contactEmail = $"ops@{id}.test" })).EnsureSuccessStatusCode();
        (await admin.PostAsJsonAsync($"/admin/partners/{id}/wallets", new { currency = "EUR" })).EnsureSuccessStatusCode();
        var deposit = new HttpRequestMessage(HttpMethod.Post, $"/admin/partners/{id}/wallets/EUR/deposits") { Content = JsonContent.Create(new { amount = funds, reference = "seed" }) };
        deposit.Headers.Add("Idempotency-Key", $"seed-{id}");
        (await admin.SendAsync(deposit)).EnsureSuccessStatusCode();
        var key = await (await admin.PostAsync($"/admin/partners/{id}/api-keys", null)).Content.ReadFromJsonAsync<JsonElement>();
        return StellerClient.Create(admin.BaseAddress!, key.GetProperty("keyId").GetString()!, key.GetProperty("secret").GetString()!);
    }

    /// <summary>A loopback receiver (HttpListener): records every message in arrival order and answers 200 after up to 30 ms.</summary>
    private sealed class Receiver : IDisposable
    {
        private readonly HttpListener listener = new();
        public ConcurrentQueue<Arrival> Arrivals { get; } = new();
        public string Url { get; }

        public Receiver()
        {
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            var port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            Url = $"http://127.0.0.1:{port}/hook/";
            listener.Prefixes.Add(Url);
            listener.Start();
            _ = Task.Run(Loop);
        }

        private async Task Loop()
        {
            while (listener.IsListening)
            {
                HttpListenerContext context;
                try { context = await listener.GetContextAsync(); }
                catch (Exception) { return; }
                _ = Task.Run(async () =>
                {
                    using var reader = new StreamReader(context.Request.InputStream);
                    var body = await reader.ReadToEndAsync();
                    var data = JsonDocument.Parse(body).RootElement;
                    var order = data.GetProperty("data");
                    await Task.Delay(Random.Shared.Next(0, 30));
                    // Recorded when answered: the order of answers is the order the sender saw them delivered.
                    Arrivals.Enqueue(new Arrival(context.Request.Headers["webhook-id"] ?? "", order.GetProperty("orderId").GetString()!,
                        data.GetProperty("type").GetString()!, order.GetProperty("revision").GetInt64(), body));
                    context.Response.StatusCode = 200;
                    context.Response.Close();
                });
            }
        }

        public void Dispose()
        {
            listener.Stop();
            listener.Close();
        }
    }
}
