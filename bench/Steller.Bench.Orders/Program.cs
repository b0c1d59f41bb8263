using Npgsql;
using Steller.Bench;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Steller.Client;
using Steller.Domain.Catalog;
using Steller.Infrastructure.Admin;

// Orders over the partner API, end to end: the built API (src/Api) and the vendor simulator (src/VendorSimulator) run as
// child processes on 127.0.0.1, PostgreSQL is the cluster ./bench/orders.sh started. Partners sign every request
// (RFC 9421, the .NET SDK). The measures, in one run, in this order (the heaviest last, so its fulfilment backlog
// disturbs nothing else):
//   0. one order at a time (closed loop): the service time of a placement;
//   3. placement-to-completion latency (POST until GET shows Completed) at a moderate rate, on a quiet system;
//   2. the highest rate whose p99 stays under 100 ms (step up, then bisect);
//   1. placement latency (POST /v1/orders until the 202) at fixed open-loop arrival rates: requests leave on a fixed
//      schedule whatever the answers, latency counts from the scheduled send time (no coordinated omission).
// Between runs the bench waits (up to --drain-cap) until fulfilment has finished every order (read.orders).
// See docs/benchmarks.md.
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
string? adminCs = null;
string mode = "?";
var seconds = 10.0;
var rates = new[] { 100, 300, 1_000 };
var searchSeconds = 5.0;
var searchMax = 1_600;
var searchBisect = 3;
var p99Limit = 100.0;
var completionRate = 50;
var completionSeconds = 10.0;
var partners = 10;
var drainCap = 90.0;
var pollMs = 100;
var sequentialOrders = 100;
var idleSeconds = 5.0;
var jitSettleSeconds = 150.0;        // --jit-settle-seconds S: after the warm-up, orders one at a time until the JIT settles (0: skip)
var crudSeconds = 5.0;
var crudPartners = 1_000;
var crudConcurrency = 32;
double? vendorLimit = null;           // --vendor-limit R: only the vendor-limited run (section 5), the gift-card vendor at R requests/s
var vendorLimitedRate = 50;
var vendorLimitedSeconds = 5.0;
var vendorLimitedWindow = 120.0;
int? maxLinesPerCheckout = null;
var apiSettings = new Dictionary<string, string>(); // --api-setting Key=Value (repeatable): e.g. RateLimits:Enabled=false
int[]? webhookRates = null;           // --webhook-rates 100,300: only the webhook delivery-lag run (section 6)
var webhookSeconds = 10.0;
Dictionary<string, string>? overheadOf = null; // --overhead-of K=V,K=V: only section 7, what those settings change in a placement
var overheadPairs = 300;
var overheadBlocks = 4;
var overheadBlockSeconds = 3.0;
var overheadConcurrency = 16;
var apiMaxPool = 0;                 // --api-max-pool N: the API's Max Pool Size (per data source); 0: Steller's default (30)
string? apiConnectionExtra = null;  // --api-connection-extra "K=V;...": appended to the API's connection string (A/B of Npgsql settings)
var topStatements = 0;               // --top-statements N: after section 0, the N statements with the most calls per order
var root = AppContext.BaseDirectory;
while (!File.Exists(Path.Combine(root, "Steller.sln"))) root = Path.GetDirectoryName(root.TrimEnd('/'))!;
var apiDll = Path.Combine(root, "src/Api/bin/Release/net10.0/Steller.Api.dll");
var simDll = Path.Combine(root, "src/VendorSimulator/bin/Release/net10.0/Steller.VendorSimulator.dll");
var crudDll = Path.Combine(root, "bench/Steller.Bench.Crud/bin/Release/net10.0/Steller.Bench.Crud.dll");
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--admin": adminCs = args[++i]; break;
        case "--mode": mode = args[++i]; break;
        case "--seconds": seconds = double.Parse(args[++i]); break;
        case "--rates": rates = args[++i].Split(',').Select(int.Parse).ToArray(); break;
        case "--search-seconds": searchSeconds = double.Parse(args[++i]); break;
        case "--search-max": searchMax = int.Parse(args[++i]); break;
        case "--search-bisect": searchBisect = int.Parse(args[++i]); break;
        case "--p99-limit": p99Limit = double.Parse(args[++i]); break;
        case "--completion-rate": completionRate = int.Parse(args[++i]); break;
        case "--completion-seconds": completionSeconds = double.Parse(args[++i]); break;
        case "--partners": partners = int.Parse(args[++i]); break;
        case "--drain-cap": drainCap = double.Parse(args[++i]); break;
        case "--poll-ms": pollMs = int.Parse(args[++i]); break;
        case "--sequential": sequentialOrders = int.Parse(args[++i]); break;
        case "--idle-seconds": idleSeconds = double.Parse(args[++i]); break;
        case "--jit-settle-seconds": jitSettleSeconds = double.Parse(args[++i]); break;
        case "--api-dll": apiDll = args[++i]; break;
        case "--sim-dll": simDll = args[++i]; break;
        case "--crud-dll": crudDll = args[++i]; break;
        case "--crud-seconds": crudSeconds = double.Parse(args[++i]); break;
        case "--crud-partners": crudPartners = int.Parse(args[++i]); break;
        case "--crud-concurrency": crudConcurrency = int.Parse(args[++i]); break;
        case "--vendor-limit": vendorLimit = double.Parse(args[++i]); break;
        case "--vendor-limited-rate": vendorLimitedRate = int.Parse(args[++i]); break;
        case "--vendor-limited-seconds": vendorLimitedSeconds = double.Parse(args[++i]); break;
        case "--vendor-limited-window": vendorLimitedWindow = double.Parse(args[++i]); break;
        case "--max-lines-per-checkout": maxLinesPerCheckout = int.Parse(args[++i]); break;
        case "--webhook-rates": webhookRates = args[++i].Split(',').Select(int.Parse).ToArray(); break;
        case "--webhook-seconds": webhookSeconds = double.Parse(args[++i]); break;
        case "--overhead-of":
            overheadOf = args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries).Select(kv => kv.Split('=', 2))
                .ToDictionary(kv => kv[0], kv => kv.Length == 2 ? kv[1] : throw new ArgumentException("--overhead-of takes Key=Value,Key=Value"));
            break;
        case "--overhead-pairs": overheadPairs = int.Parse(args[++i]); break;
        case "--overhead-blocks": overheadBlocks = int.Parse(args[++i]); break;
        case "--overhead-block-seconds": overheadBlockSeconds = double.Parse(args[++i]); break;
        case "--overhead-concurrency": overheadConcurrency = int.Parse(args[++i]); break;
        case "--top-statements": topStatements = int.Parse(args[++i]); break;
        case "--api-connection-extra": apiConnectionExtra = args[++i]; break;
        case "--api-max-pool": apiMaxPool = int.Parse(args[++i]); break;
        case "--api-setting":
            var setting = args[++i].Split('=', 2);
            apiSettings[setting[0]] = setting.Length == 2 ? setting[1] : throw new ArgumentException("--api-setting takes Key=Value");
            break;
        default:
            Console.Error.WriteLine($"unknown option {args[i]}; options: --admin CS --mode M --seconds S --rates 100,300,1000 --search-seconds S --search-max N "
                                    + "--search-bisect N --p99-limit MS --vendor-limit R --vendor-limited-rate N --vendor-limited-seconds S --vendor-limited-window S --max-lines-per-checkout N --webhook-rates 100,300 --webhook-seconds S --overhead-of K=V,K=V --overhead-pairs N --overhead-blocks N --overhead-block-seconds S --overhead-concurrency N --top-statements N --api-setting Key=Value --api-max-pool N --completion-rate N --completion-seconds S --poll-ms MS --sequential N --idle-seconds S --partners N --drain-cap S --api-dll P --sim-dll P "
                                    + "--crud-seconds S (0: skip) --crud-partners N --crud-concurrency N --crud-dll P");
            return 2;
    }
}
if (adminCs is null) { Console.Error.WriteLine("--admin connection string (to the postgres database) is required"); return 2; }

Console.WriteLine($"== orders over signed HTTP, mode '{mode}' ==");
var cs = await BenchDatabase.Fresh(adminCs, "bench_orders");
await using var dataSource = NpgsqlDataSource.Create(cs);

// ---- the vendor simulator: no latency unless scripted (none is), rate limits off (0), balances that never run out.
const string simClient = "bench-client", simSecret = "bench-secret-51c0", simAccount = "bench-account", simApiKey = "bench-api-key-9d2e";
using var sim = ChildProcess.Start(simDll, [
    "--urls", "http://127.0.0.1:0",
    $"--Simulator:GiftCard:ClientId={simClient}", $"--Simulator:GiftCard:ClientSecret={simSecret}", $"--Simulator:GiftCard:AccountId={simAccount}",
    $"--Simulator:TopUp:ApiKey={simApiKey}",
    "--Simulator:GiftCard:RateLimit:PerSecond=0", "--Simulator:TopUp:RateLimit:PerSecond=0",
    "--Simulator:GiftCard:OpeningBalance=1000000000000", "--Simulator:TopUp:OpeningBalance=1000000000000",
    "--Logging:LogLevel:Default=Warning", "--Logging:LogLevel:Microsoft.Hosting.Lifetime=Information",
], new Dictionary<string, string>());
var simUrl = await sim.ListeningUrl();
using var simControl = new HttpClient { BaseAddress = simUrl };
// Belt and braces: the limits are off by the arguments above; raise them on the control endpoint too.
foreach (var vendor in new[] { "giftcard", "topup" })
    (await simControl.PostAsJsonAsync("/control/rate-limit", new { vendor, perSecond = 1_000_000, burst = 1_000_000 })).EnsureSuccessStatusCode();
// Section 5 only: the gift-card vendor limits requests as the sandbox's does (burst 1), Steller keeps a little under it.
if (vendorLimit is { } limit)
    (await simControl.PostAsJsonAsync("/control/rate-limit", new { vendor = "giftcard", perSecond = limit, burst = 1 })).EnsureSuccessStatusCode();

// ---- the API: the built Steller.Api.dll, Production, vendors at the simulator with a client-side gate far above the load.
var vendorSettings = new Dictionary<string, string>
{
    ["Vendors:GiftCard:BaseUrl"] = new Uri(simUrl, "/giftcard/").ToString(),
    ["Vendors:GiftCard:ClientId"] = simClient,
    ["Vendors:GiftCard:ClientSecret"] = simSecret,
    ["Vendors:GiftCard:AccountId"] = simAccount,
    ["Vendors:GiftCard:RequestsPerSecond"] = "10000",
    ["Vendors:GiftCard:Burst"] = "10000",
    ["Vendors:TopUp:BaseUrl"] = new Uri(simUrl, "/topup/").ToString(),
    ["Vendors:TopUp:ApiKey"] = simApiKey,
    ["Vendors:TopUp:RequestsPerSecond"] = "10000",
    ["Vendors:TopUp:Burst"] = "10000",
};
if (vendorLimit is { } gate)
{
    vendorSettings["Vendors:GiftCard:RequestsPerSecond"] = (gate * 0.9).ToString(CultureInfo.InvariantCulture);
    vendorSettings["Vendors:GiftCard:Burst"] = "1";
}
if (maxLinesPerCheckout is { } maxLines) vendorSettings["Vendors:GiftCard:MaxLinesPerCheckout"] = maxLines.ToString(CultureInfo.InvariantCulture);
var apiEnv = new Dictionary<string, string>
{
    ["ASPNETCORE_ENVIRONMENT"] = "Production",
    ["STELLER__Database__ConnectionString"] = (apiMaxPool > 0 ? new NpgsqlConnectionStringBuilder(cs) { MaxPoolSize = apiMaxPool }.ConnectionString : cs)
        + (apiConnectionExtra is { Length: > 0 } more ? ";" + more : ""),
    ["STELLER__Security__MasterKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
    ["Logging__LogLevel__Default"] = "Warning",
    ["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information",
};
foreach (var (k, v) in vendorSettings) apiEnv["STELLER__" + k.Replace(":", "__")] = v;
foreach (var (k, v) in apiSettings) apiEnv["STELLER__" + k.Replace(":", "__")] = v;
if (webhookRates is not null) apiEnv["STELLER__Webhooks__AllowPrivateTargets"] = "true"; // the receiver is on loopback
using var api = ChildProcess.Start(apiDll, ["--urls", "http://127.0.0.1:0"], apiEnv);
var apiUrl = await api.ListeningUrl(); // after the migrations: the API migrates before it listens

Console.WriteLine($"server  : {await BenchDatabase.Describe(dataSource)}");
Console.WriteLine($"machine : {Environment.ProcessorCount} cores; API {apiUrl} (child process), simulator {simUrl} (child process, no latency, rate limits off)");
Console.WriteLine($"load    : {partners} partners, 1 x Amazon.de 25 EUR per order, unique clientReference; {seconds:0.#} s per fixed rate, {searchSeconds:0.#} s per search step");

// ---- an admin token, then the catalog: one sync of the simulator's catalogs through the API, as an operator would run it.
var adminToken = await new AdminTokens(dataSource).Create($"bench-{Guid.NewGuid():N}"[..20], AdminRoles.Admin, DateTimeOffset.UtcNow);
using var admin = new HttpClient { BaseAddress = apiUrl };
admin.DefaultRequestHeaders.Authorization = new("Bearer", adminToken.Token);
var synced = await admin.PostAsync("/admin/catalog/sync", null);
if (!synced.IsSuccessStatusCode) throw new InvalidOperationException($"catalog sync: {(int)synced.StatusCode} {await synced.Content.ReadAsStringAsync()}");
Console.WriteLine($"catalog : synced from the simulator: {await synced.Content.ReadAsStringAsync()}");

var sku = Skus.ForVendorProduct("giftcard", "101"); // Amazon.de 25 EUR

// ---- partners: onboarded over the admin API; each funded far beyond the run.
var handler = new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5) };
var clients = new StellerClient[partners];
for (var p = 0; p < partners; p++)
{
    var id = $"bench-p{p}";
    (await admin.PostAsJsonAsync("/admin/partners", new { partnerId = id, name = id, contactEmail = $"ops@{id}.test" })).EnsureSuccessStatusCode();
    (await admin.PostAsJsonAsync($"/admin/partners/{id}/wallets", new { currency = "EUR" })).EnsureSuccessStatusCode();
    var deposit = new HttpRequestMessage(HttpMethod.Post, $"/admin/partners/{id}/wallets/EUR/deposits") { Content = JsonContent.Create(new { amount = 100_000_000_000L, reference = "bench" }) };
    deposit.Headers.Add("Idempotency-Key", $"bench-{id}");
    var deposited = await admin.SendAsync(deposit);
    if (!deposited.IsSuccessStatusCode) throw new InvalidOperationException($"deposit for {id}: {(int)deposited.StatusCode} {await deposited.Content.ReadAsStringAsync()}");
    var key = await (await admin.PostAsync($"/admin/partners/{id}/api-keys", null)).Content.ReadFromJsonAsync<JsonElement>();
    clients[p] = StellerClient.Create(apiUrl, key.GetProperty("keyId").GetString()!, key.GetProperty("secret").GetString()!, handler);
    clients[p].Http.Timeout = TimeSpan.FromSeconds(30);
}

var runId = Guid.NewGuid().ToString("N")[..8];
long sequence = 0;
NewOrderLine[] lines = [new(sku, 1, 2_500)];
Task<string> Place() => PlaceWith(clients);
async Task<string> PlaceWith(StellerClient[] with)
{
    var n = Interlocked.Increment(ref sequence);
    var placement = await with[n % partners].PlaceOrder($"b-{runId}-{n}", lines);
    if (placement.Status != "FundsHeld") throw new StellerApiException(202, "status_" + placement.Status, null);
    return placement.OrderId;
}

// The products reach the pricing read model through the API's projections: wait until an order is accepted.
{
    var waited = Stopwatch.StartNew();
    while (true)
    {
        try { await Place(); break; }
        catch (StellerApiException e) when (waited.Elapsed < TimeSpan.FromSeconds(60) && e.Status is 409 or 422 or 503) { await Task.Delay(200); }
    }
    Console.WriteLine($"ready   : first order accepted {waited.Elapsed.TotalSeconds:0.0} s after the sync");
}

// ---- 5. (--vendor-limit only) fulfilment against a vendor that allows R requests a second: partners send orders at
// --vendor-limited-rate for --vendor-limited-seconds; then, over a window from the first order, how many orders the vendor
// budget completed, and what the vendor saw (checkouts, 409s for a request id sent twice, lines per checkout).
if (vendorLimit is { } vendorRate)
{
    Console.WriteLine($"5. vendor-limited fulfilment: gift-card vendor at {vendorRate:0.##} request/s (burst 1), Steller's gate at "
                      + $"{vendorRate * 0.9:0.##}/s, MaxLinesPerCheckout {(maxLinesPerCheckout?.ToString() ?? "default")}; "
                      + $"{vendorLimitedRate}/s for {vendorLimitedSeconds:0.#} s, {Load()}:");
    await Drain();
    (await simControl.PostAsync("/control/reset", null)).EnsureSuccessStatusCode(); // the sim's request log and orders from here
    (await simControl.PostAsJsonAsync("/control/rate-limit", new { vendor = "giftcard", perSecond = vendorRate, burst = 1 })).EnsureSuccessStatusCode();
    var refused = new ConcurrentDictionary<string, int>();
    var accepted = new ConcurrentBag<string>();
    var window = Stopwatch.StartNew();
    await OpenLoop.Run(vendorLimitedRate, vendorLimitedSeconds, async () =>
    {
        try { accepted.Add(await Place()); }
        catch (StellerApiException e) { refused.AddOrUpdate($"{e.Status} {e.Code}", 1, (_, c) => c + 1); throw; }
    });
    async Task<Dictionary<string, long>> Statuses()
    {
        await using var cmd = dataSource.CreateCommand("select status, count(*) from read.orders where order_id = any($1) group by status");
        cmd.Parameters.Add(new NpgsqlParameter { Value = accepted.ToArray() });
        await using var reader = await cmd.ExecuteReaderAsync();
        var counts = new Dictionary<string, long>();
        while (await reader.ReadAsync()) counts[reader.GetString(0)] = reader.GetInt64(1);
        return counts;
    }
    Dictionary<string, long> statuses;
    double lastCompletedAt = 0;
    long completed = 0;
    while (true)
    {
        statuses = await Statuses();
        var nowCompleted = statuses.GetValueOrDefault("Completed");
        if (nowCompleted > completed) { completed = nowCompleted; lastCompletedAt = window.Elapsed.TotalSeconds; }
        var open = statuses.Where(kv => kv.Key is "Placed" or "FundsHeld" or "Submitted").Sum(kv => kv.Value);
        if (open == 0 || window.Elapsed.TotalSeconds >= vendorLimitedWindow) break;
        await Task.Delay(500);
    }
    var requests = await simControl.GetFromJsonAsync<JsonElement[]>("/control/requests?vendor=giftcard") ?? [];
    var vendorOrders = await simControl.GetFromJsonAsync<JsonElement[]>("/control/orders?vendor=giftcard") ?? [];
    var checkouts = requests.Count(r => r.GetProperty("operation").GetString() == "checkout");
    var conflicts = requests.Count(r => r.GetProperty("operation").GetString() == "checkout" && r.GetProperty("status").GetInt32() == 409);
    var reads = requests.Count(r => r.GetProperty("operation").GetString() == "order");
    var limited = requests.Count(r => r.GetProperty("status").GetInt32() == 429);
    var units = vendorOrders.Sum(o => o.GetProperty("quantity").GetInt32());
    Console.WriteLine($"   offered {vendorLimitedRate * vendorLimitedSeconds:0}, accepted {accepted.Count}, refused "
                      + (refused.IsEmpty ? "none" : string.Join(", ", refused.Select(kv => $"{kv.Value} x {kv.Key}"))));
    Console.WriteLine($"   after {window.Elapsed.TotalSeconds:0.0} s: " + string.Join(", ", statuses.OrderBy(kv => kv.Key).Select(kv => $"{kv.Value} {kv.Key}")));
    Console.WriteLine($"   fulfilled: {completed} orders completed, the last {lastCompletedAt:0.0} s after the first order: "
                      + $"{(lastCompletedAt > 0 ? completed / lastCompletedAt : 0):0.00} orders/s completed");
    Console.WriteLine($"   the vendor saw {checkouts} checkouts ({conflicts} answered 409), {reads} status reads, {limited} answers of 429; "
                      + $"{vendorOrders.Length} vendor orders for {units} units ({(vendorOrders.Length > 0 ? units / (double)vendorOrders.Length : 0):0.0} lines a checkout)");
    return 0;
}

// ---- 7. (--overhead-of only) what some settings cost a placement, in one run: two more API processes on the same
// database, A with the bench's settings and B with the given ones on top (e.g. the request log and the rate limiter off).
// Neither runs projections (Projections:Enabled=false), and the first API stops once both are up: what is measured is the
// placement alone (orders stay FundsHeld), without the fulfilment and read-model work of earlier orders whose noise on 2
// cores is larger than the difference looked for. Interleaved, so that the machine's own noise falls on both alike:
// one-at-a-time placements alternate A, B / B, A; then closed-loop blocks of --overhead-concurrency callers in the order
// A B B A A B B A ...
if (overheadOf is { } overhead)
{
    var sides = new (string Name, Dictionary<string, string> Settings)[] { ("A", new()), ("B", overhead) };
    var started = new List<ChildProcess>();
    var sideClients = new StellerClient[2][];
    var sideUrls = new Uri[2];
    var sideKeys = new[] { new List<string>(), new List<string>() };
    for (var s = 0; s < 2; s++)
    {
        var env = new Dictionary<string, string>(apiEnv) { ["STELLER__Projections__Enabled"] = "false" };
        foreach (var (k, v) in sides[s].Settings) env["STELLER__" + k.Replace(":", "__")] = v;
        var process = ChildProcess.Start(apiDll, ["--urls", "http://127.0.0.1:0"], env);
        started.Add(process);
        sideUrls[s] = await process.ListeningUrl();
        sideClients[s] = new StellerClient[partners];
        for (var p = 0; p < partners; p++)
        {
            var key = await (await admin.PostAsync($"/admin/partners/bench-p{p}/api-keys", null)).Content.ReadFromJsonAsync<JsonElement>();
            sideKeys[s].Add(key.GetProperty("keyId").GetString()!);
            sideClients[s][p] = StellerClient.Create(sideUrls[s], key.GetProperty("keyId").GetString()!, key.GetProperty("secret").GetString()!, handler);
            sideClients[s][p].Http.Timeout = TimeSpan.FromSeconds(30);
        }
    }
    try
    {
        api.Dispose(); // the pricing read model is filled: from here only A and B run
        Console.WriteLine($"7. what {string.Join(", ", overhead.Select(kv => $"{kv.Key}={kv.Value}"))} changes in a placement: A (as the bench) at "
                          + $"{sideUrls[0]}, B (with those settings) at {sideUrls[1]}, neither running projections, the first API stopped; {Load()}");
        // What each side does differently, seen from outside: the RateLimit header, and request log rows of its keys.
        for (var s = 0; s < 2; s++)
        {
            using var me = await sideClients[s][0].Http.GetAsync("v1/me");
            Console.WriteLine($"   {sides[s].Name}: GET /v1/me {(int)me.StatusCode}, RateLimit header {(me.Headers.Contains("RateLimit") ? "present" : "absent")}");
        }
        // Warm-up of both (the JIT, pools): not recorded.
        for (var s = 0; s < 2; s++) await ClosedLoop.Run(overheadConcurrency, 2, _ => PlaceWith(sideClients[s]));

        var one = new[] { new List<double>(), new List<double>() };
        for (var k = 0; k < overheadPairs; k++)
            foreach (var s in k % 2 == 0 ? new[] { 0, 1 } : [1, 0])
            {
                var t = Stopwatch.GetTimestamp();
                await PlaceWith(sideClients[s]);
                one[s].Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
            }
        string Summary(List<double> xs)
        {
            var sorted = xs.Order().ToArray();
            return $"p50 {OpenLoop.Percentile(sorted, 0.5):0.00}  p95 {OpenLoop.Percentile(sorted, 0.95):0.00}  p99 {OpenLoop.Percentile(sorted, 0.99):0.00}  mean {xs.Average():0.00} ms";
        }
        // The p50 difference in each fifth of the run: how far it moves with the machine alone.
        var fifths = Enumerable.Range(0, 5).Select(f =>
        {
            var from = f * overheadPairs / 5; var to = (f + 1) * overheadPairs / 5;
            double P50(List<double> xs) => OpenLoop.Percentile(xs.Skip(from).Take(to - from).Order().ToArray(), 0.5);
            return P50(one[1]) - P50(one[0]);
        }).ToArray();
        Console.WriteLine($"   one at a time, {overheadPairs} pairs: A {Summary(one[0])}");
        Console.WriteLine($"                                  B {Summary(one[1])}");
        Console.WriteLine($"   p50 B - A: {OpenLoop.Percentile(one[1].Order().ToArray(), 0.5) - OpenLoop.Percentile(one[0].Order().ToArray(), 0.5):+0.00;-0.00} ms "
                          + $"(by fifths of the run: {string.Join(", ", fifths.Select(d => d.ToString("+0.00;-0.00")))}); {Load()}");
        var perSecond = new[] { new List<double>(), new List<double>() };
        var p50s = new[] { new List<double>(), new List<double>() };
        var errors = new[] { 0, 0 };
        for (var b = 0; b < overheadBlocks * 2; b++)
        {
            var s = (b % 4) is 0 or 3 ? 0 : 1; // A B B A A B B A: a steady drift weighs on both alike
            var r = await ClosedLoop.Run(overheadConcurrency, overheadBlockSeconds, _ => PlaceWith(sideClients[s]));
            perSecond[s].Add(r.PerSecond); p50s[s].Add(r.P50); errors[s] += r.Errors;
            Console.WriteLine($"   block {b + 1} {sides[s].Name}: {r.PerSecond:0.0} placements/s  p50 {r.P50:0.0} ms  p99 {r.P99:0.0} ms  {r.Errors} errors{r.ErrorText}; {Load()}");
        }
        Console.WriteLine($"   {overheadConcurrency} callers, {overheadBlocks} blocks of {overheadBlockSeconds:0.#} s each: A {perSecond[0].Average():0.0}/s (p50 {p50s[0].Average():0.0} ms, {errors[0]} errors), "
                          + $"B {perSecond[1].Average():0.0}/s (p50 {p50s[1].Average():0.0} ms, {errors[1]} errors); throughput B / A {perSecond[1].Average() / perSecond[0].Average():0.000}");
        // Each A B B A quad is a ratio of its own (a drift within it cancels): their spread says how far the mean can be trusted.
        var quads = Enumerable.Range(0, overheadBlocks / 2)
            .Select(q => (perSecond[1][2 * q] + perSecond[1][2 * q + 1]) / (perSecond[0][2 * q] + perSecond[0][2 * q + 1])).ToArray();
        if (quads.Length >= 2)
        {
            var mean = quads.Average();
            var half = 2 * Math.Sqrt(quads.Sum(x => (x - mean) * (x - mean)) / (quads.Length - 1) / quads.Length);
            Console.WriteLine($"   B / A by A B B A quad: {string.Join(" ", quads.Select(x => x.ToString("0.000")))}; "
                              + $"mean {mean:0.000} +- {half:0.000} (2 standard errors)");
        }
        await Task.Delay(2_000); // the request log is flushed about once a second
        await using var logged = dataSource.CreateCommand("""
            select count(*) filter (where key_id = any($1)), count(*) filter (where key_id = any($2)) from steller.partner_requests
            """);
        logged.Parameters.Add(new NpgsqlParameter { Value = sideKeys[0].ToArray() });
        logged.Parameters.Add(new NpgsqlParameter { Value = sideKeys[1].ToArray() });
        await using var reader = await logged.ExecuteReaderAsync();
        await reader.ReadAsync();
        Console.WriteLine($"   request log rows: A's keys {reader.GetInt64(0)}, B's keys {reader.GetInt64(1)}");
    }
    finally
    {
        foreach (var process in started) process.Dispose();
    }
    return 0;
}

// ---- 6. (--webhook-rates only) webhook delivery lag: every partner has one endpoint (order.completed) at a local receiver;
// orders arrive open-loop at each rate for --webhook-seconds; the lag of a message is from its event's time (the payload's
// timestamp: when the completion was decided and appended) to the moment the receiver answers 2xx, both on this machine's
// clock. Deliveries/s: messages answered over the span from the first to the last answer of the run.
if (webhookRates is { } whRates)
{
    using var receiver = new BenchReceiver();
    foreach (var c in clients)
    {
        var created = await c.Http.PostAsJsonAsync("v1/webhook-endpoints", new { url = receiver.Url, eventTypes = new[] { "order.completed" } });
        if (!created.IsSuccessStatusCode) throw new InvalidOperationException($"webhook endpoint: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
    }
    Console.WriteLine($"6. webhook delivery lag: {partners} endpoints (one per partner) at a local receiver ({receiver.Url}), order.completed, "
                      + $"{webhookSeconds:0.#} s per rate; delivery settings at their defaults (32 in flight, 4 per endpoint)");
    await OpenLoop.Run(100, 3, async () => { await Place(); }); // warm-up, deliveries included
    await Drain();
    await SettleJit();
    for (var wait = Stopwatch.StartNew(); receiver.Count < Interlocked.Read(ref sequence) && wait.Elapsed.TotalSeconds < 60;) await Task.Delay(100);
    foreach (var rate in whRates)
    {
        receiver.Reset();
        var runFrom = DateTime.UtcNow;
        var hiddenBefore = await HiddenCommits();
        var placed = new ConcurrentBag<string>();
        using var sampling = new CancellationTokenSource();
        var holders = HorizonHolders(sampling.Token);
        var run = await OpenLoop.Run(rate, webhookSeconds, async () => placed.Add(await Place()));
        sampling.Cancel();
        var holderSummary = await holders;
        var wait = Stopwatch.StartNew();
        while (receiver.Count < placed.Count && wait.Elapsed.TotalSeconds < drainCap) await Task.Delay(100);
        var (lags, span) = receiver.Snapshot();
        var sorted = lags.Order().ToArray();
        Console.WriteLine($"   {rate}/s: placed {placed.Count} (placement p99 {run.P99:0.0} ms, {run.Errors} refused), delivered {sorted.Length} "
                          + $"({(placed.Count - sorted.Length)} missing after {wait.Elapsed.TotalSeconds:0.0} s more); lag p50 {OpenLoop.Percentile(sorted, 0.5):0.0} ms  "
                          + $"p95 {OpenLoop.Percentile(sorted, 0.95):0.0} ms  p99 {OpenLoop.Percentile(sorted, 0.99):0.0} ms  max {(sorted.Length > 0 ? sorted[^1] : double.NaN):0.0} ms; "
                          + $"{(span > 0 ? sorted.Length / span : 0):0.0} deliveries/s; {Load()}");
        Console.WriteLine(await WebhookStages(runFrom));
        Console.WriteLine(HiddenSummary(hiddenBefore, await HiddenCommits()));
        Console.WriteLine(holderSummary);
        await Drain();
    }
    return 0;
}

// Where a delivery's lag goes, per stage, for the messages whose events are at or after `from` (p50 / p95 / p99 in ms):
// decided (the event's time) -> committed (the append's commit time: track_commit_timestamp, on in the bench's cluster)
// -> queued (the follower stored the message: queued_at) -> sent (the first attempt began) -> answered (its 2xx).
async Task<string> WebhookStages(DateTime from)
{
    await using var cmd = dataSource.CreateCommand("""
        select extract(epoch from x.committed - m.created_at) * 1000, extract(epoch from m.queued_at - x.committed) * 1000,
               extract(epoch from a.at - m.queued_at) * 1000, a.latency_ms
        from ops.webhook_messages m
        join es.events e on e.event_id = m.event_id
        cross join lateral (select pg_xact_commit_timestamp(e.xmin) as committed) x
        join lateral (select at, latency_ms from ops.webhook_attempts where message_id = m.id order by id limit 1) a on true
        where m.created_at >= $1 and m.queued_at is not null
        """);
    cmd.Parameters.AddWithValue(from);
    var stages = new List<double>[4];
    for (var i = 0; i < 4; i++) stages[i] = [];
    try
    {
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            for (var i = 0; i < 4; i++) if (!reader.IsDBNull(i)) stages[i].Add(Convert.ToDouble(reader.GetValue(i)));
    }
    catch (PostgresException e) { return $"   stages: not available ({e.MessageText})"; }
    string P(List<double> xs)
    {
        var sorted = xs.Order().ToArray();
        return $"{OpenLoop.Percentile(sorted, 0.5):0.0} / {OpenLoop.Percentile(sorted, 0.95):0.0} / {OpenLoop.Percentile(sorted, 0.99):0.0}";
    }
    return $"   stages (p50 / p95 / p99 ms, {stages[0].Count} messages): decided->committed {P(stages[0])}; committed->queued {P(stages[1])}; "
           + $"queued->sent {P(stages[2])}; sent->answered {P(stages[3])}";
}

// What holds the gap-safe log horizon back while orders arrive: every ~5 ms, the session whose transaction is the oldest
// running one that may append (its xid is es.log_horizon(), the horizon every log read uses; nothing committed after it is
// visible yet) and how long that transaction has been open. Grouped by what the session runs (its statement's first words, numbers
// blanked), the groups holding the horizon longest first: a commit notified meanwhile waits for that transaction.
async Task<string> HorizonHolders(CancellationToken ct)
{
    var held = new Dictionary<string, (int Samples, double MaxMs, List<double> Ages)>();
    var horizon = "(select es.log_horizon())";
    var samples = 0;
    await using var conn = await dataSource.OpenConnectionAsync(CancellationToken.None);
    // An API from before migration 0021 (--api-dll) reads the log up to the oldest running transaction of any kind.
    await using (var probe = new NpgsqlCommand("select to_regproc('es.log_horizon') is not null", conn))
        if (!(bool)(await probe.ExecuteScalarAsync(CancellationToken.None))!) horizon = "pg_snapshot_xmin(pg_current_snapshot())";
    await using var cmd = new NpgsqlCommand($"""
        select regexp_replace(left(regexp_replace(coalesce(a.query, ''), '\s+', ' ', 'g'), 70), '[0-9]+', 'N', 'g'),
               extract(epoch from clock_timestamp() - a.xact_start) * 1000
          from pg_stat_activity a
         where a.backend_xid is not null
           and a.backend_xid::text = (({horizon})::text::bigint % 4294967296)::text
        """, conn);
    while (!ct.IsCancellationRequested)
    {
        try
        {
            samples++;
            await using var reader = await cmd.ExecuteReaderAsync(CancellationToken.None);
            while (await reader.ReadAsync(CancellationToken.None))
            {
                var what = reader.GetString(0);
                var age = reader.IsDBNull(1) ? 0 : Convert.ToDouble(reader.GetValue(1));
                var h = held.TryGetValue(what, out var x) ? x : (0, 0, new List<double>());
                h.Ages.Add(age);
                held[what] = (h.Samples + 1, Math.Max(h.MaxMs, age), h.Ages);
            }
        }
        catch (PostgresException e) { return $"   horizon holders: not available ({e.MessageText})"; }
        try { await Task.Delay(5, ct); } catch (OperationCanceledException) { }
    }
    var total = held.Values.Sum(h => h.Samples);
    var lines = held.OrderByDescending(h => h.Value.Ages.Sum()).Take(8).Select(h =>
    {
        var ages = h.Value.Ages.Order().ToArray();
        return $"     {h.Value.Samples * 100.0 / Math.Max(1, samples),5:0.0}% of samples, open p50 {OpenLoop.Percentile(ages, 0.5),6:0.0} ms, max {h.Value.MaxMs,7:0.0} ms: {h.Key}";
    });
    return $"   horizon holders ({samples} samples, {total * 100.0 / Math.Max(1, samples):0}% with a running transaction holding it):\n" + string.Join("\n", lines);
}

// The API's steller_log_hidden_commit_seconds histogram (cumulative count per upper bound, seconds): how long notified
// commits stayed invisible to the log subscription behind older open transactions.
async Task<SortedDictionary<double, double>> HiddenCommits()
{
    var buckets = new SortedDictionary<double, double>();
    foreach (var line in (await admin.GetStringAsync("/metrics")).Split('\n'))
    {
        if (!line.StartsWith("steller_log_hidden_commit_seconds_bucket{le=\"", StringComparison.Ordinal)) continue;
        var le = line[(line.IndexOf('"') + 1)..line.LastIndexOf('"')];
        buckets[le == "+Inf" ? double.PositiveInfinity : double.Parse(le, System.Globalization.CultureInfo.InvariantCulture)] =
            double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }
    return buckets;
}

static string HiddenSummary(SortedDictionary<double, double> before, SortedDictionary<double, double> after)
{
    var delta = after.ToDictionary(b => b.Key, b => b.Value - before.GetValueOrDefault(b.Key));
    var total = delta.GetValueOrDefault(double.PositiveInfinity);
    if (total <= 0) return "   log subscription: no commit notifications counted";
    string Upper(double p) => delta.OrderBy(b => b.Key).First(b => b.Value >= p * total).Key is var k && double.IsInfinity(k) ? "inf" : $"{k * 1000:0.#}";
    return $"   log subscription: {total:0} notified reads; found within 2 ms {delta.GetValueOrDefault(0.002) / total * 100:0}%; "
           + $"notified-to-found p50 <= {Upper(0.5)} ms, p95 <= {Upper(0.95)} ms, p99 <= {Upper(0.99)} ms (histogram bounds)";
}

// Orders one at a time until the JIT has settled: .NET compiles hot methods again at higher tiers in the background for a
// minute or more after start, and that thread took a third of the API's CPU in a 1,000-order sequential run right after the
// 300-order warm-up (perf, 2026-12-03). What a long-running node costs per order is measured after it.
async Task SettleJit()
{
    if (jitSettleSeconds <= 0) return;
    var settle = Stopwatch.StartNew();
    var settled = false;
    var placedWhileSettling = 0;
    double share = 1;
    while (!settled && settle.Elapsed.TotalSeconds < jitSettleSeconds)
    {
        var (cpu0, jit0) = (ApiCpu(), api.TieredCompilationTime);
        var window = Stopwatch.StartNew();
        while (window.Elapsed.TotalSeconds < 5) { await Place(); placedWhileSettling++; }
        var (cpu, jit) = (ApiCpu() - cpu0, api.TieredCompilationTime - jit0);
        share = cpu > TimeSpan.Zero ? jit / cpu : 0;
        settled = share < 0.02;
    }
    Console.WriteLine($"jit     : {(settled ? "settled" : "not settled")} after {settle.Elapsed.TotalSeconds:0} s and {placedWhileSettling} more orders one at a time "
                      + $"(tiered compilation {share * 100:0.0} % of the API's CPU in the last 5 s; --jit-settle-seconds {jitSettleSeconds:0}), drained in {await Drain():0.0} s");
}

// Waits (at most 60 s) until the API uses under 10 % of a core over a second: its log followers and jobs have caught up.
async Task<string> Quiet()
{
    var t = Stopwatch.StartNew();
    double share;
    do
    {
        var cpu = ApiCpu();
        var second = Stopwatch.StartNew();
        await Task.Delay(1_000);
        share = (ApiCpu() - cpu) / second.Elapsed;
    } while (share >= 0.10 && t.Elapsed.TotalSeconds < 60);
    return $"API quiet ({share * 100:0} % of a core) after {t.Elapsed.TotalSeconds:0} s";
}

// CPU time the API process spent per order placed in a run (placement, fulfilment, projections: all its work).
TimeSpan ApiCpu() => api.TotalProcessorTime;

static string Load() => "load average " + string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

// Orders not yet final (from read.orders): fulfilment's backlog.
async Task<long> Unfinished()
{
    await using var cmd = dataSource.CreateCommand("select count(*) from read.orders where status in ('Placed', 'FundsHeld', 'Submitted')");
    return (long)(await cmd.ExecuteScalarAsync())!;
}
async Task<double> Drain()
{
    var t = Stopwatch.StartNew();
    while (t.Elapsed.TotalSeconds < drainCap && await Unfinished() > 0) await Task.Delay(100);
    return t.Elapsed.TotalSeconds;
}

// ---- warm-up (not recorded): the JIT, pools and connections on both sides.
await OpenLoop.Run(100, 3, async () => { await Place(); });
Console.WriteLine($"warm-up : 300 orders at 100/s, drained in {await Drain():0.0} s");
await SettleJit();

// ---- idle: what the API burns with no orders coming in (projections, jobs, pollers), to read the per-order CPU against.
{
    var cpu = ApiCpu();
    var t = Stopwatch.StartNew();
    await Task.Delay(TimeSpan.FromSeconds(idleSeconds));
    Console.WriteLine($"idle    : API CPU {(ApiCpu() - cpu).TotalMilliseconds / t.Elapsed.TotalMilliseconds * 100:0.0} % of one core over {t.Elapsed.TotalSeconds:0.0} s without orders, {Load()}");
}

// ---- 0. one order at a time (closed loop): the service time of a placement without queueing, and what one completed
// order costs the database: SQL statements (pg_stat_statements), transactions (pg_stat_database) and PostgreSQL CPU
// (/proc), counted from the first placement until fulfilment has completed them all (placement + fulfilment + every
// read model; the drain's own polling of read.orders is counted too, and is small).
var sequential = new List<double>();
var dbBefore = await DatabaseCost();
var callsBefore = topStatements > 0 ? await StatementCalls() : new Dictionary<string, (long Calls, double Ms, double PlanMs)>();
var timesBefore = topStatements > 0 ? await StatementTimes() : (0.0, 0.0);
var pgProcessesBefore = topStatements > 0 ? PostgresProcessCpu(await PostmasterPid()) : new Dictionary<int, (string Name, double Ms)>();
var apiCpuBefore = ApiCpu();
for (var k = 0; k < sequentialOrders; k++)
{
    var t = Stopwatch.GetTimestamp();
    await Place();
    sequential.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
}
var seqSorted = sequential.Order().ToArray();
var seqDrained = await Drain();
await Task.Delay(1_500); // backends flush their statistics about once a second
var dbAfter = await DatabaseCost();
Console.WriteLine($"0. one at a time ({sequentialOrders} orders, closed loop): p50 {OpenLoop.Percentile(seqSorted, 0.5):0.0} ms  p95 {OpenLoop.Percentile(seqSorted, 0.95):0.0} ms  "
                  + $"p99 {OpenLoop.Percentile(seqSorted, 0.99):0.0} ms  max {seqSorted[^1]:0.0} ms; drained in {seqDrained:0.0} s, {Load()}");
Console.WriteLine($"   per completed order: {(dbAfter.Statements - dbBefore.Statements) / (double)sequentialOrders:0.0} SQL statements, "
                  + $"{(dbAfter.Transactions - dbBefore.Transactions) / (double)sequentialOrders:0.0} transactions, "
                  + $"PostgreSQL CPU {(dbAfter.CpuMs - dbBefore.CpuMs) / sequentialOrders:0.0} ms, API CPU {(ApiCpu() - apiCpuBefore).TotalMilliseconds / sequentialOrders:0.0} ms"
                  + (dbBefore.Statements < 0 ? " (pg_stat_statements not loaded: statements not counted)" : ""));
if (topStatements > 0)
{
    // Where PostgreSQL's CPU went: the time pg_stat_statements saw in executing and planning statements, against the CPU
    // of each of the cluster's processes over the same span (backends by what they ran last; reaped: processes that
    // ended meanwhile, autovacuum workers mostly).
    var (execAfter, planAfter) = await StatementTimes();
    Console.WriteLine($"   statements' own time per order: execution {(execAfter - timesBefore.Item1) / sequentialOrders:0.00} ms, "
                      + $"planning {(planAfter - timesBefore.Item2) / sequentialOrders:0.00} ms (wall time inside PostgreSQL)");
    var pgProcessesAfter = PostgresProcessCpu(await PostmasterPid());
    var roles = await BackendRoles();
    var byRole = pgProcessesAfter
        .Select(p => (Role: p.Key == 0 ? "reaped processes (ended during the run) + postmaster" : roles.GetValueOrDefault(p.Key, p.Value.Name),
            Ms: p.Value.Ms - pgProcessesBefore.GetValueOrDefault(p.Key).Ms))
        .GroupBy(x => x.Role).Select(g => (Role: g.Key, Ms: g.Sum(x => x.Ms), Count: g.Count()))
        .Where(x => x.Ms > 0).OrderByDescending(x => x.Ms).Take(12);
    foreach (var (role, ms, count) in byRole)
        Console.WriteLine($"   {ms / sequentialOrders,6:0.00} ms/order PostgreSQL CPU  {count,3} x {role}");
    var callsAfter = await StatementCalls();
    var rows = callsAfter.Select(kv => (Query: kv.Key, Calls: kv.Value.Calls - callsBefore.GetValueOrDefault(kv.Key).Calls,
            Ms: kv.Value.Ms - callsBefore.GetValueOrDefault(kv.Key).Ms, PlanMs: kv.Value.PlanMs - callsBefore.GetValueOrDefault(kv.Key).PlanMs))
        .Where(x => x.Calls > 0).ToList();
    Console.WriteLine("   by calls:");
    foreach (var (query, calls, ms, _) in rows.OrderByDescending(x => x.Calls).Take(topStatements))
        Console.WriteLine($"   {calls / (double)sequentialOrders,6:0.00}/order {ms / sequentialOrders,7:0.00} ms/order  {query}");
    Console.WriteLine("   by execution + planning time:");
    foreach (var (query, calls, ms, _) in rows.OrderByDescending(x => x.Ms).Take(topStatements))
        Console.WriteLine($"   {calls / (double)sequentialOrders,6:0.00}/order {ms / sequentialOrders,7:0.00} ms/order  {query}");
    Console.WriteLine("   by planning time (statements planned on every call; a prepared statement plans once):");
    foreach (var (query, calls, _, plan) in rows.OrderByDescending(x => x.PlanMs).Take(topStatements))
        Console.WriteLine($"   {calls / (double)sequentialOrders,6:0.00}/order {plan / sequentialOrders,7:0.00} ms/order planning  {query}");
}

// Calls and total execution + planning time (ms) of each statement text (whitespace folded, cut at 140 characters) in the bench
// database, from pg_stat_statements.
async Task<Dictionary<string, (long Calls, double Ms, double PlanMs)>> StatementCalls()
{
    await using var conn = await dataSource.OpenConnectionAsync();
    await using var s = new Npgsql.NpgsqlCommand("""
        select left(regexp_replace(query, '\s+', ' ', 'g'), 140), sum(calls)::bigint, sum(total_exec_time + total_plan_time)::float8,
               sum(total_plan_time)::float8 from pg_stat_statements
         where dbid = (select oid from pg_database where datname = current_database()) group by 1
        """, conn);
    var result = new Dictionary<string, (long, double, double)>();
    await using var reader = await s.ExecuteReaderAsync();
    while (await reader.ReadAsync()) result[reader.GetString(0)] = (reader.GetInt64(1), reader.GetDouble(2), reader.GetDouble(3));
    return result;
}

// Total execution and planning time (ms) of the bench database's statements (pg_stat_statements; 0 without it).
async Task<(double Exec, double Plan)> StatementTimes()
{
    await using var conn = await dataSource.OpenConnectionAsync();
    await using var s = new Npgsql.NpgsqlCommand("""
        select coalesce(sum(total_exec_time), 0)::float8, coalesce(sum(total_plan_time), 0)::float8 from pg_stat_statements
         where dbid = (select oid from pg_database where datname = current_database())
        """, conn);
    try
    {
        await using var reader = await s.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetDouble(0), reader.GetDouble(1));
    }
    catch (Npgsql.PostgresException) { return (0, 0); }
}

async Task<int> PostmasterPid()
{
    await using var conn = await dataSource.OpenConnectionAsync();
    await using var me = new Npgsql.NpgsqlCommand("select pg_backend_pid()", conn);
    var backend = (int)(await me.ExecuteScalarAsync())!;
    return int.Parse(ProcStat.Fields($"/proc/{backend}/stat")[1]);
}

// What each live backend is for: its type, and for client backends the application and the start of its last statement.
async Task<Dictionary<int, string>> BackendRoles()
{
    await using var conn = await dataSource.OpenConnectionAsync();
    await using var s = new Npgsql.NpgsqlCommand("""
        select pid, backend_type, coalesce(nullif(application_name, ''), '-'),
               left(regexp_replace(coalesce(query, ''), '\s+', ' ', 'g'), 60), state
          from pg_stat_activity
        """, conn);
    var roles = new Dictionary<int, string>();
    await using var reader = await s.ExecuteReaderAsync();
    while (await reader.ReadAsync())
        roles[reader.GetInt32(0)] = reader.GetString(1) == "client backend"
            ? $"client {reader.GetString(2)}: {(reader.IsDBNull(4) ? "" : reader.GetString(4) + ", ")}last '{reader.GetString(3)}'"
            : reader.GetString(1);
    return roles;
}

// CPU (ms, USER_HZ = 100) of each live child of the bench's own PostgreSQL cluster by pid (name from /proc), and under pid
// 0 the postmaster with what it reaped (cutime, cstime); their sum is the cluster's CPU. Other clusters are not counted.
static Dictionary<int, (string Name, double Ms)> PostgresProcessCpu(int postmaster)
{
    var result = new Dictionary<int, (string Name, double Ms)>();
    foreach (var dir in Directory.EnumerateDirectories("/proc"))
    {
        try
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            var fields = ProcStat.Fields(Path.Combine(dir, "stat"));
            var parent = int.Parse(fields[1]);
            if (pid == postmaster)
                result[0] = ("postmaster", ProcStat.CpuMs(fields) + (double.Parse(fields[13]) + double.Parse(fields[14])) * ProcStat.MsPerTick);
            else if (parent == postmaster)
                result[pid] = (File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ').Trim(), ProcStat.CpuMs(fields));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException) { }
    }
    return result;
}

// Statements (-1 without pg_stat_statements), committed+rolled back transactions of the bench database, and the CPU
// time of the bench's PostgreSQL cluster (its postmaster, found as the parent of this connection's backend).
async Task<(long Statements, long Transactions, double CpuMs)> DatabaseCost()
{
    await using var conn = await dataSource.OpenConnectionAsync();
    long statements = -1;
    try
    {
        await using (var create = new Npgsql.NpgsqlCommand("create extension if not exists pg_stat_statements", conn)) await create.ExecuteNonQueryAsync();
        await using var s = new Npgsql.NpgsqlCommand(
            "select coalesce(sum(calls), 0)::bigint from pg_stat_statements where dbid = (select oid from pg_database where datname = current_database())", conn);
        statements = (long)(await s.ExecuteScalarAsync())!;
    }
    catch (Npgsql.PostgresException) { }
    await using (var clear = new Npgsql.NpgsqlCommand("select pg_stat_clear_snapshot()", conn)) await clear.ExecuteNonQueryAsync();
    await using var x = new Npgsql.NpgsqlCommand("select (xact_commit + xact_rollback)::bigint from pg_stat_database where datname = current_database()", conn);
    var transactions = (long)(await x.ExecuteScalarAsync())!;
    return (statements, transactions, PostgresProcessCpu(await PostmasterPid()).Values.Sum(p => p.Ms));
}

// ---- 3. placement to completion (first, on a quiet system: no fulfilment backlog from the rate runs yet)
Console.WriteLine();
Console.WriteLine($"3. placement to completion (POST until GET /v1/orders/{{id}} shows Completed, polled every {pollMs} ms for 1 s, then backing off to 1 s) at {completionRate}/s, {Load()}:");
var completedIds = new ConcurrentBag<string>();
var completion = await OpenLoop.Run(completionRate, completionSeconds, async () =>
{
    var n = Interlocked.Read(ref sequence) + 1;
    var id = await Place();
    var client = clients[n % partners];
    var deadline = Stopwatch.StartNew();
    var interval = pollMs;
    while (true)
    {
        // Every pollMs for the first second, then twice as far apart each time up to a second: polls of orders that
        // are slow to complete must not pile up and slow completion further (at 100/s and a fixed 100 ms, a backlog of
        // a few seconds meant thousands of GETs a second, and one run fell to 41 placements answered a second).
        await Task.Delay(interval);
        if (deadline.Elapsed > TimeSpan.FromSeconds(1)) interval = Math.Min(interval * 2, Math.Max(pollMs, 1_000));
        var order = await client.GetOrder(id);
        if (order.Status is "Completed") { completedIds.Add(id); return; }
        if (order.Status is "PartiallyCompleted" or "Failed" or "Cancelled" or "Rejected" or "Refunded" or "PartiallyRefunded")
            throw new StellerApiException(200, "final_" + order.Status, order.FailureReason);
        if (deadline.Elapsed > TimeSpan.FromSeconds(30)) throw new StellerApiException(200, "not_completed_in_30s_" + order.Status, null);
    }
});
Console.WriteLine("   " + completion.Line());
// The same orders server-side, without the polling resolution: placed_at to the recorded time of the last event (the completion).
double[] serverSide;
await using (var cmd = dataSource.CreateCommand("select extract(epoch from (updated_at - placed_at)) * 1000 from read.orders where order_id = any($1) and status = 'Completed'"))
{
    cmd.Parameters.Add(new NpgsqlParameter { Value = completedIds.ToArray() });
    var list = new List<double>();
    await using var reader = await cmd.ExecuteReaderAsync();
    while (await reader.ReadAsync()) list.Add(Convert.ToDouble(reader.GetValue(0)));
    serverSide = list.Order().ToArray();
}
Console.WriteLine($"   server side (read.orders placed_at to completed): p50 {OpenLoop.Percentile(serverSide, 0.5):0.0} ms  p95 {OpenLoop.Percentile(serverSide, 0.95):0.0} ms  "
                  + $"p99 {OpenLoop.Percentile(serverSide, 0.99):0.0} ms  ({serverSide.Length} orders)");
Console.WriteLine($"   fulfilment drained after {await Drain():0.0} s");

// ---- 2. the highest rate with p99 under the limit
Console.WriteLine();
Console.WriteLine($"2. highest rate with p99 < {p99Limit:0} ms (and no errors, sent at >= 95 % of the target), {searchSeconds:0.#} s per step:");
bool Passes(RunResult r) => r.P99 < p99Limit && r.Errors == 0 && r.SentPerSecond >= 0.95 * r.Target;
int? best = null, worst = null;
var searchResults = new List<RunResult>();
for (var rate = 100; rate <= searchMax; rate = rate * 2 > searchMax && rate < searchMax ? searchMax : rate * 2)
{
    var cpu = ApiCpu();
    var r = await OpenLoop.Run(rate, searchSeconds, async () => { await Place(); });
    r = r with { DrainSeconds = await Drain(), Backlog = await Unfinished(), LoadAverage = Load() };
    if (r.Backlog == 0) r = r with { ApiCpuMsPerOrder = (ApiCpu() - cpu).TotalMilliseconds / r.Count };
    searchResults.Add(r);
    Console.WriteLine($"   {(Passes(r) ? "pass" : "FAIL")} " + r.Line() + "  " + r.LoadAverage);
    if (Passes(r)) best = rate; else { worst = rate; break; }
}
if (best is null && worst is not null) best = 0; // 100/s already fails: bisect below it
if (best is not null && worst is not null)
{
    for (var b = 0; b < searchBisect && worst - best > 12; b++)
    {
        var rate = (best.Value + worst.Value) / 2;
        var cpu = ApiCpu();
        var r = await OpenLoop.Run(rate, searchSeconds, async () => { await Place(); });
        r = r with { DrainSeconds = await Drain(), Backlog = await Unfinished(), LoadAverage = Load() };
        if (r.Backlog == 0) r = r with { ApiCpuMsPerOrder = (ApiCpu() - cpu).TotalMilliseconds / r.Count };
        searchResults.Add(r);
        Console.WriteLine($"   {(Passes(r) ? "pass" : "FAIL")} " + r.Line() + "  " + r.LoadAverage);
        if (Passes(r)) best = rate; else worst = rate;
    }
}
var sustained = best is null or 0 ? $"below {worst:N0} orders/s" : worst is null ? $">= {best:N0} orders/s (the search ceiling)" : $"{best:N0} orders/s (fails at {worst:N0})";
Console.WriteLine($"   highest sustained rate with p99 < {p99Limit:0} ms: {sustained}");

// ---- 1. fixed rates
Console.WriteLine();
Console.WriteLine("1. placement latency (POST /v1/orders until 202), open loop, from the scheduled send time:");
var fixedResults = new List<RunResult>();
foreach (var rate in rates)
{
    var cpu = ApiCpu();
    var r = await OpenLoop.Run(rate, seconds, async () => { await Place(); });
    var last = rate == rates[^1];
    r = r with { DrainSeconds = last ? double.NaN : await Drain(), Backlog = last ? -1 : await Unfinished(), LoadAverage = Load() };
    if (!last && r.Backlog == 0) r = r with { ApiCpuMsPerOrder = (ApiCpu() - cpu).TotalMilliseconds / r.Count };
    fixedResults.Add(r);
    Console.WriteLine("   " + r.Line() + "  " + r.LoadAverage);
}

// ---- 4. Steller beside a plain CRUD placement (bench/Steller.Bench.Crud: one transaction that locks the wallet row), same
// machine, same database, same signed client; closed loop (--crud-concurrency callers), load spread over --crud-partners
// partners, then all of it on one partner. Steller's fulfilment of each run drains before the CRUD run starts.
var crudRows = new List<string>();
if (crudSeconds > 0)
{
    Console.WriteLine();
    Console.WriteLine($"4. Steller / CRUD, closed loop, {crudConcurrency} callers, {crudSeconds:0.#} s per run, {crudPartners:N0} partners (spread) or 1 (hot):");
    using var crud = ChildProcess.Start(crudDll, ["--urls", "http://127.0.0.1:0", $"--Crud:ConnectionString={cs}"], new Dictionary<string, string>());
    var crudUrl = await crud.ListeningUrl();
    using var crudSetup = new HttpClient { BaseAddress = crudUrl };
    var stellerClients = new StellerClient[crudPartners];
    var crudClients = new StellerClient[crudPartners];
    var onboard = Stopwatch.StartNew();
    await Parallel.ForEachAsync(Enumerable.Range(0, crudPartners), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (p, _) =>
    {
        var id = $"crud-p{p}";
        (await admin.PostAsJsonAsync("/admin/partners", new { partnerId = id, name = id, contactEmail = $"ops@{id}.test" })).EnsureSuccessStatusCode();
        (await admin.PostAsJsonAsync($"/admin/partners/{id}/wallets", new { currency = "EUR" })).EnsureSuccessStatusCode();
        var deposit = new HttpRequestMessage(HttpMethod.Post, $"/admin/partners/{id}/wallets/EUR/deposits") { Content = JsonContent.Create(new { amount = 100_000_000_000L, reference = "bench" }) };
        deposit.Headers.Add("Idempotency-Key", $"bench-{id}");
        (await admin.SendAsync(deposit)).EnsureSuccessStatusCode();
        var key = await (await admin.PostAsync($"/admin/partners/{id}/api-keys", null)).Content.ReadFromJsonAsync<JsonElement>();
        var keyId = key.GetProperty("keyId").GetString()!;
        var secret = key.GetProperty("secret").GetString()!;
        stellerClients[p] = StellerClient.Create(apiUrl, keyId, secret, handler);
        (await crudSetup.PostAsJsonAsync("/setup/partners", new { partnerId = id, currency = "EUR", balance = 100_000_000_000L, keyId })).EnsureSuccessStatusCode();
        crudClients[p] = StellerClient.Create(crudUrl, keyId, secret, handler);
    });
    Console.WriteLine($"   {crudPartners:N0} partners onboarded on both in {onboard.Elapsed.TotalSeconds:0.0} s");
    // Steady state on both: every partner has ordered before (else nearly every order of the spread run would be its
    // partner's first, and a first order reads the partner's streams cold and activates it), the CRUD service's JIT and pools
    // are warm as the warm-up above made Steller's, and Steller's log followers have worked off the onboarding.
    var warm = Stopwatch.StartNew();
    await Parallel.ForEachAsync(Enumerable.Range(0, crudPartners), new ParallelOptions { MaxDegreeOfParallelism = crudConcurrency }, async (p, _) =>
    {
        await stellerClients[p].PlaceOrder($"w-{runId}-{p}", lines);
        await crudClients[p].PlaceOrder($"w-{runId}-{p}", lines);
    });
    await ClosedLoop.Run(crudConcurrency, 2, n => crudClients[n % crudPartners].PlaceOrder($"w2-{runId}-{n}", lines));
    var drainedWarm = await Drain();
    Console.WriteLine($"   every partner ordered once on both in {warm.Elapsed.TotalSeconds:0.0} s; fulfilment drained in {drainedWarm:0.0} s, {await Quiet()}");
    foreach (var (scenario, pick) in new (string, Func<long, int>)[] { ("spread", n => (int)(n % crudPartners)), ("hot", _ => 0) })
    {
        var s = await ClosedLoop.Run(crudConcurrency, crudSeconds, n => stellerClients[pick(n)].PlaceOrder($"s-{scenario}-{runId}-{n}", lines));
        var drained = await Drain();
        await Quiet();
        var c = await ClosedLoop.Run(crudConcurrency, crudSeconds, n => crudClients[pick(n)].PlaceOrder($"c-{scenario}-{runId}-{n}", lines));
        Console.WriteLine($"   {scenario,-6} Steller {s.PerSecond,8:N0}/s p99 {s.P99,7:0.0} ms errors {s.Errors}{s.ErrorText}  (fulfilment drained in {drained:0.0} s)");
        Console.WriteLine($"   {scenario,-6} CRUD    {c.PerSecond,8:N0}/s p99 {c.P99,7:0.0} ms errors {c.Errors}{c.ErrorText}");
        crudRows.Add($"| {scenario} | {s.PerSecond:N0} | {c.PerSecond:N0} | **{s.PerSecond / c.PerSecond:0.00}×** | {s.P99:0.0} | {c.P99:0.0} | **{c.P99 / s.P99:0.00}×** | {s.Errors} / {c.Errors} |");
    }
    foreach (var c in stellerClients.Concat(crudClients)) c.Dispose();
}

// ---- tables
Console.WriteLine();
Console.WriteLine($"### {mode}");
Console.WriteLine();
Console.WriteLine("| target orders/s | sent/s | answered/s | p50 ms | p95 ms | p99 ms | max ms | errors | fulfilment drained after | API CPU ms/order |");
Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
foreach (var r in fixedResults) Console.WriteLine(r.Row());
Console.WriteLine();
Console.WriteLine($"Search (p99 < {p99Limit:0} ms, {searchSeconds:0.#} s per step):");
Console.WriteLine();
Console.WriteLine("| target orders/s | sent/s | answered/s | p50 ms | p95 ms | p99 ms | max ms | errors | fulfilment drained after | API CPU ms/order |");
Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
foreach (var r in searchResults) Console.WriteLine(r.Row());
Console.WriteLine();
Console.WriteLine($"Highest sustained rate with p99 < {p99Limit:0} ms: **{sustained}**.");
Console.WriteLine();
Console.WriteLine($"One at a time: p50 {OpenLoop.Percentile(seqSorted, 0.5):0.0} ms, p95 {OpenLoop.Percentile(seqSorted, 0.95):0.0} ms, p99 {OpenLoop.Percentile(seqSorted, 0.99):0.0} ms.");
Console.WriteLine();
Console.WriteLine($"Server side, placed to completed: p50 {OpenLoop.Percentile(serverSide, 0.5):0.0} ms, p95 {OpenLoop.Percentile(serverSide, 0.95):0.0} ms, p99 {OpenLoop.Percentile(serverSide, 0.99):0.0} ms.");
Console.WriteLine();
Console.WriteLine($"Placement to completion at {completionRate}/s (GET every {pollMs} ms, backing off after 1 s): p50 {completion.P50:0.0} ms, p95 {completion.P95:0.0} ms, p99 {completion.P99:0.0} ms, max {completion.Max:0.0} ms, "
                  + $"{completion.Ok:N0} completed, errors {completion.Errors}{completion.ErrorText()}");
Console.WriteLine();
if (crudRows.Count > 0)
{
    Console.WriteLine($"Steller / CRUD ({crudConcurrency} callers, closed loop, {crudSeconds:0.#} s; throughput ratio > 1 and p99 ratio (CRUD / Steller) > 1 favour Steller):");
    Console.WriteLine();
    Console.WriteLine("| load | Steller orders/s | CRUD orders/s | Steller / CRUD | Steller p99 ms | CRUD p99 ms | CRUD p99 / Steller p99 | errors (Steller / CRUD) |");
    Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|");
    foreach (var row in crudRows) Console.WriteLine(row);
    Console.WriteLine();
}
Console.WriteLine("Floor 'P95 order creation < 400 ms': " + string.Join(", ", fixedResults.Select(r => $"{r.Target:N0}/s {(r.P95 < 400 ? "met" : "NOT met")} (p95 {r.P95:0.0} ms)")) + ".");

var apiErrors = api.Stderr.Split('\n').Where(l => l.Contains("fail:") || l.Contains("crit:")).Take(5).ToList();
var apiWarns = Regex.Matches(api.Stdout, @"^(fail|crit): .*$", RegexOptions.Multiline).Select(m => m.Value).Take(10).ToList();
if (apiWarns.Count + apiErrors.Count > 0)
{
    Console.WriteLine();
    Console.WriteLine("API log errors (first lines):");
    foreach (var l in apiWarns.Concat(apiErrors)) Console.WriteLine("  " + l);
    Directory.CreateDirectory(Path.Combine(root, "bench", "results"));
    File.WriteAllText(Path.Combine(root, "bench", "results", $"orders-api-{mode}.log"), api.Stdout + api.Stderr);
}
foreach (var c in clients) c.Dispose();
return 0;

internal sealed record RunResult(int Target, int Count, double SentPerSecond, double AnsweredPerSecond, int Ok, int Errors, double P50, double P95, double P99, double Max,
    IReadOnlyDictionary<string, int> ErrorCodes, double DrainSeconds = 0, long Backlog = 0, string LoadAverage = "", double ApiCpuMsPerOrder = double.NaN)
{
    public string ErrorText() => ErrorCodes.Count == 0 ? "" : " (" + string.Join(", ", ErrorCodes.OrderByDescending(e => e.Value).Select(e => $"{e.Key} x{e.Value}")) + ")";
    private string DrainText() => Backlog < 0 ? "(last run: not waited)" : Backlog > 0 ? $"> {DrainSeconds:0} s ({Backlog:N0} left)" : $"{DrainSeconds:0.0} s";
    public string Line() => $"{Target,5:N0}/s: sent {SentPerSecond,7:N1}/s answered {AnsweredPerSecond,7:N1}/s  p50 {P50,8:0.0} ms  p95 {P95,8:0.0} ms  p99 {P99,8:0.0} ms  max {Max,8:0.0} ms  "
                            + $"errors {Errors}{ErrorText()}  drain {DrainText()}  API CPU {Cpu()} ms/order";
    private string Cpu() => double.IsNaN(ApiCpuMsPerOrder) ? "-" : ApiCpuMsPerOrder.ToString("0.0");
    public string Row() => $"| {Target:N0} | {SentPerSecond:N0} | {AnsweredPerSecond:N0} | {P50:0.0} | {P95:0.0} | {P99:0.0} | {Max:0.0} | {Errors}{ErrorText()} | {DrainText()} | {Cpu()} |";
}

internal static class OpenLoop
{
    /// <summary>
    /// Starts <paramref name="op"/> rate x seconds times on a fixed schedule (a dedicated thread releases each call at
    /// start + i / rate, whatever the earlier calls are doing) and records each call's latency from its scheduled time.
    /// </summary>
    public static async Task<RunResult> Run(int rate, double seconds, Func<Task> op)
    {
        var n = (int)Math.Round(rate * seconds);
        var latencies = new double[n];
        var failed = new bool[n];
        var codes = new ConcurrentDictionary<string, int>();
        var tasks = new Task[n];
        var interval = Stopwatch.Frequency / (double)rate;
        var start = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 100;
        long lastSent = 0, lastDone = start;
        var scheduler = new Thread(() =>
        {
            for (var i = 0; i < n;)
            {
                var now = Stopwatch.GetTimestamp();
                for (; i < n && start + (long)(i * interval) <= now; i++)
                {
                    var index = i;
                    var scheduled = start + (long)(index * interval);
                    tasks[index] = Task.Run(async () =>
                    {
                        try { await op(); }
                        catch (Exception e)
                        {
                            failed[index] = true;
                            var code = e switch
                            {
                                StellerApiException s => $"{s.Status} {s.Code}",
                                TaskCanceledException => "timeout",
                                HttpRequestException h => $"http: {h.HttpRequestError}",
                                _ => e.GetType().Name,
                            };
                            codes.AddOrUpdate(code, 1, (_, c) => c + 1);
                        }
                        var done = Stopwatch.GetTimestamp();
                        latencies[index] = Stopwatch.GetElapsedTime(scheduled, done).TotalMilliseconds;
                        long seen;
                        while ((seen = Interlocked.Read(ref lastDone)) < done && Interlocked.CompareExchange(ref lastDone, done, seen) != seen) { }
                    });
                }
                lastSent = now;
                if (i < n) Thread.Sleep(1);
            }
        }) { IsBackground = true, Priority = ThreadPriority.AboveNormal, Name = "open-loop scheduler" };
        scheduler.Start();
        await Task.Run(scheduler.Join);
        await Task.WhenAll(tasks.Where(t => t is not null));
        var sorted = latencies.Where((_, i) => !failed[i]).Order().ToArray();
        var errors = failed.Count(f => f);
        var sendSpan = Math.Max(1e-9, Stopwatch.GetElapsedTime(start, lastSent).TotalSeconds);
        var answerSpan = Math.Max(1e-9, Stopwatch.GetElapsedTime(start, lastDone).TotalSeconds);
        return new RunResult(rate, n, n > 1 ? (n - 1) / sendSpan : n, (n - errors) / answerSpan, n - errors, errors,
            Percentile(sorted, 0.50), Percentile(sorted, 0.95), Percentile(sorted, 0.99), sorted.Length == 0 ? double.NaN : sorted[^1], codes);
    }

    public static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
}

internal sealed record ClosedResult(double PerSecond, double P50, double P99, int Errors, string ErrorText);

internal static class ClosedLoop
{
    /// <summary>
    /// <paramref name="callers"/> loops each calling <paramref name="op"/> (with a running sequence number) back to back for
    /// <paramref name="seconds"/>: the throughput at saturation and the latency seen at it.
    /// </summary>
    public static async Task<ClosedResult> Run(int callers, double seconds, Func<long, Task> op)
    {
        long sequence = 0;
        var latencies = new ConcurrentBag<double>();
        var codes = new ConcurrentDictionary<string, int>();
        var errors = 0;
        var until = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, callers).Select(_ => Task.Run(async () =>
        {
            while (Stopwatch.GetTimestamp() < until)
            {
                var t = Stopwatch.GetTimestamp();
                try
                {
                    await op(Interlocked.Increment(ref sequence));
                    latencies.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
                }
                catch (Exception e)
                {
                    Interlocked.Increment(ref errors);
                    codes.AddOrUpdate(e is StellerApiException s ? $"{s.Status} {s.Code}" : e.GetType().Name, 1, (_, c) => c + 1);
                }
            }
        })));
        var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var sorted = latencies.Order().ToArray();
        var text = codes.IsEmpty ? "" : " (" + string.Join(", ", codes.Select(c => $"{c.Key} x{c.Value}")) + ")";
        return new ClosedResult(sorted.Length / elapsed, OpenLoop.Percentile(sorted, 0.5), OpenLoop.Percentile(sorted, 0.99), errors, text);
    }
}

/// <summary>A /proc/&lt;pid&gt;/stat (or task stat) file: its fields after the command name, so [1] is the parent pid, [11] utime.</summary>
internal static class ProcStat
{
    /// <summary>Milliseconds per clock tick (USER_HZ = 100).</summary>
    public const double MsPerTick = 10;

    public static string[] Fields(string path)
    {
        var stat = File.ReadAllText(path);
        return stat[(stat.LastIndexOf(')') + 2)..].Split(' '); // the name may hold spaces and parentheses
    }

    /// <summary>User + system CPU of the process or thread, in ms.</summary>
    public static double CpuMs(string[] fields) => (double.Parse(fields[11]) + double.Parse(fields[12])) * MsPerTick;
}

/// <summary>A built .NET program started as a child process (its own environment, no STELLER__ settings leaking in), output captured.</summary>
internal sealed class ChildProcess : IDisposable
{
    private readonly Process process;
    private readonly StringBuilder stdout = new(), stderr = new();

    private ChildProcess(Process process) => this.process = process;

    public TimeSpan TotalProcessorTime { get { process.Refresh(); return process.TotalProcessorTime; } }

    /// <summary>
    /// CPU time of the process's tiered-compilation thread (".NET Tiered Com..." in /proc): the JIT compiling methods again
    /// at higher tiers in the background. Zero where /proc is not readable.
    /// </summary>
    public TimeSpan TieredCompilationTime
    {
        get
        {
            var ms = 0.0;
            try
            {
                foreach (var task in Directory.GetDirectories($"/proc/{process.Id}/task"))
                    if (File.ReadAllText(Path.Combine(task, "comm")).StartsWith(".NET Tiered Com", StringComparison.Ordinal))
                        ms += ProcStat.CpuMs(ProcStat.Fields(Path.Combine(task, "stat")));
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
            return TimeSpan.FromMilliseconds(ms);
        }
    }
    public string Stdout { get { lock (stdout) return stdout.ToString(); } }
    public string Stderr { get { lock (stderr) return stderr.ToString(); } }

    public static ChildProcess Start(string dll, IEnumerable<string> args, IDictionary<string, string> env)
    {
        if (!File.Exists(dll)) throw new FileNotFoundException($"build it first: {dll}");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = Path.GetDirectoryName(dll)! };
        info.ArgumentList.Add(dll);
        foreach (var a in args) info.ArgumentList.Add(a);
        foreach (var k in info.Environment.Keys.Where(k => k.StartsWith("STELLER__", StringComparison.OrdinalIgnoreCase) || k.StartsWith("Simulator__", StringComparison.OrdinalIgnoreCase)).ToList())
            info.Environment.Remove(k);
        foreach (var (k, v) in env) info.Environment[k] = v;
        var child = new ChildProcess(new Process { StartInfo = info });
        child.process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (child.stdout) child.stdout.AppendLine(e.Data); };
        child.process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (child.stderr) child.stderr.AppendLine(e.Data); };
        child.process.Start();
        child.process.BeginOutputReadLine();
        child.process.BeginErrorReadLine();
        return child;
    }

    public async Task<Uri> ListeningUrl()
    {
        var t = Stopwatch.StartNew();
        while (t.Elapsed < TimeSpan.FromSeconds(90))
        {
            var m = Regex.Match(Stdout, @"Now listening on: (http://127\.0\.0\.1:\d+)");
            if (m.Success) return new Uri(m.Groups[1].Value + "/");
            if (process.HasExited) throw new InvalidOperationException($"{process.StartInfo.ArgumentList[0]} exited ({process.ExitCode}): {Stdout}{Stderr}");
            await Task.Delay(100);
        }
        throw new TimeoutException($"{process.StartInfo.ArgumentList[0]} did not listen within 90 s: {Stdout}{Stderr}");
    }

    private bool disposed;
    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        if (!process.HasExited) { process.Kill(entireProcessTree: true); process.WaitForExit(); }
        process.Dispose();
    }
}

/// <summary>
/// The webhook bench's receiver on loopback (HttpListener): answers 204 at once and records, per message, now minus the payload's
/// timestamp (the event's time) in milliseconds, and when it answered.
/// </summary>
internal sealed class BenchReceiver : IDisposable
{
    private readonly System.Net.HttpListener listener = new();
    private readonly object gate = new();
    private List<double> lags = [];
    private long first, last;
    public string Url { get; }
    public int Count { get { lock (gate) return lags.Count; } }

    public BenchReceiver()
    {
        var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        var port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
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
            System.Net.HttpListenerContext context;
            try { context = await listener.GetContextAsync(); }
            catch (Exception) { return; }
            _ = Task.Run(async () =>
            {
                using var reader = new StreamReader(context.Request.InputStream);
                var body = JsonDocument.Parse(await reader.ReadToEndAsync()).RootElement;
                var lag = (DateTimeOffset.UtcNow - body.GetProperty("timestamp").GetDateTimeOffset()).TotalMilliseconds;
                var at = Stopwatch.GetTimestamp();
                lock (gate)
                {
                    if (lags.Count == 0) first = at;
                    last = at;
                    lags.Add(lag);
                }
                context.Response.StatusCode = 204;
                context.Response.Close();
            });
        }
    }

    public void Reset() { lock (gate) { lags = []; first = last = 0; } }

    /// <summary>The lags so far and the seconds from the first answer to the last.</summary>
    public (double[] Lags, double Span) Snapshot()
    {
        lock (gate) return (lags.ToArray(), lags.Count < 2 ? 0 : Stopwatch.GetElapsedTime(first, last).TotalSeconds);
    }

    public void Dispose()
    {
        listener.Stop();
        listener.Close();
    }
}
