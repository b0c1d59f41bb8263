using System.Text.Json;
using System.Text.Json.Serialization;

namespace Steller.VendorSimulator;

/// <summary>
/// The Bamboo-like gift-card vendor, in memory. Catalog items are brands with products; money in major units
/// (decimals) as the real API sends it. An order is keyed by the client's RequestId: a second checkout with the same
/// RequestId creates nothing and answers 409 "DuplicateRequestId".
/// </summary>
public sealed class GiftCardVendor(SimulatorOptions options, ScriptBook scripts, FakeCodes codes, TimeProvider time,
    ILogger<GiftCardVendor> log)
{
    public const string Name = "giftcard";

    public sealed record Price(decimal Min, decimal Max, string CurrencyCode);
    public sealed record Product(int Id, string Name, decimal MinFaceValue, decimal MaxFaceValue, Price Price);
    public sealed record Brand(int Id, string Name, string CountryCode, string CurrencyCode, IReadOnlyList<Product> Products);

    /// <summary>Fixed products have min = max face value and an absolute price; range products are priced at a discount.</summary>
    public static readonly IReadOnlyList<Brand> Catalog =
    [
        new(1, "Amazon.de", "DE", "EUR", [
            new(101, "Amazon.de 25 EUR", 25m, 25m, new(24.00m, 24.00m, "EUR")),
            new(102, "Amazon.de 50 EUR", 50m, 50m, new(48.00m, 48.00m, "EUR")),
            new(103, "Amazon.de 5-500 EUR", 5m, 500m, new(4.85m, 485.00m, "EUR"))]),
        new(2, "Zalando", "DE", "EUR", [
            new(201, "Zalando 20 EUR", 20m, 20m, new(19.10m, 19.10m, "EUR")),
            new(202, "Zalando 100 EUR", 100m, 100m, new(95.50m, 95.50m, "EUR"))]),
        new(3, "Nintendo eShop", "DE", "EUR", [
            new(301, "Nintendo eShop 15 EUR", 15m, 15m, new(14.2501m, 14.2501m, "EUR"))]),
        new(4, "Steam", "US", "USD", [
            new(401, "Steam 20 USD", 20m, 20m, new(19.40m, 19.40m, "USD")),
            new(402, "Steam 50 USD", 50m, 50m, new(48.50m, 48.50m, "USD"))]),
        new(5, "Apple", "US", "USD", [
            new(501, "Apple 10-500 USD", 10m, 500m, new(9.70m, 485.00m, "USD"))]),
        new(6, "Spotify", "US", "USD", [
            new(601, "Spotify 30 USD", 30m, 30m, new(28.50m, 28.50m, "USD"))]),
        new(7, "Tesco", "GB", "GBP", [
            new(701, "Tesco 10 GBP", 10m, 10m, new(9.65m, 9.65m, "GBP")),
            new(702, "Tesco 5-250 GBP", 5m, 250m, new(4.80m, 240.00m, "GBP"))]),
        new(8, "Netflix", "GB", "GBP", [
            new(801, "Netflix 15 GBP", 15m, 15m, new(14.555m, 14.555m, "GBP"))]),
        new(9, "Amazon.co.jp", "JP", "JPY", [
            new(901, "Amazon.co.jp 3000 JPY", 3000m, 3000m, new(2910m, 2910m, "JPY"))]),
    ];

    public sealed record Card(string SerialNumber, string CardCode, string Pin, string ExpirationDate);
    /// <summary>One item of a checkout; its outcome is its own (a checkout may carry several products).</summary>
    public sealed record Line(int ProductId, int Quantity, decimal Value)
    {
        public int DeliverUnits { get; set; } = Quantity;
        public string? ErrorMessage { get; set; }
    }

    public sealed class Order
    {
        public required string RequestId { get; init; }
        public required string AccountId { get; init; }
        public required IReadOnlyList<Line> Lines { get; init; }
        public required string Currency { get; init; }
        public required DateTimeOffset CreatedAt { get; init; }
        public string Status { get; set; } = "Created";
        public string? FinalStatus { get; set; }
        public int DeliverUnits { get; set; }
        public string? ErrorMessage { get; set; }
        public int PollsLeft { get; set; }
        public DateTimeOffset DoneAt { get; set; }
        /// <summary>Delivered cards, by the index of the item (checkout line) they belong to.</summary>
        public List<(int Item, Card Card)> Cards { get; } = [];
        public int Units => Lines.Sum(l => l.Quantity);
        public decimal Charged { get; set; }
        /// <summary>What the vendor gave back when it reversed the order (control call); null while not reversed.</summary>
        public decimal? Reversed { get; set; }
    }

    private readonly Dictionary<string, Order> orders = new();
    private readonly Dictionary<string, decimal> balances = new();
    private readonly Lock gate = new();

    public IReadOnlyList<Order> Orders() { lock (gate) return orders.Values.OrderBy(o => o.CreatedAt).ToList(); }

    public void Reset() { lock (gate) { orders.Clear(); balances.Clear(); } }

    public static (Brand Brand, Product Product)? Find(int productId) =>
        Catalog.SelectMany(b => b.Products.Select(p => (b, p))).Where(x => x.p.Id == productId).Select(x => ((Brand, Product)?)(x.b, x.p))
            .FirstOrDefault();

    private decimal Balance(string currency) => balances.TryGetValue(currency, out var b) ? b : options.GiftCard.OpeningBalance;

    /// <summary>The balance of every account (one per catalog currency).</summary>
    public IReadOnlyDictionary<string, decimal> Balances()
    {
        lock (gate) return Catalog.Select(b => b.CurrencyCode).Distinct().ToDictionary(c => c, Balance, StringComparer.Ordinal);
    }

    /// <summary>Control: money paid into (or, negative, taken from) the account in <paramref name="currency"/>; the new balance.</summary>
    public decimal TopUp(string currency, decimal amount)
    {
        lock (gate) return balances[currency] = Balance(currency) + amount;
    }

    /// <summary>
    /// Control: the vendor reverses (refunds) the order <paramref name="requestId"/>: what it kept for the delivered cards goes
    /// back to the balance of the order's currency, once. A second reversal gives nothing back and answers the first.
    /// </summary>
    public ControlEndpoints.ReversalOutcome Reverse(string requestId)
    {
        lock (gate)
        {
            if (!orders.TryGetValue(requestId, out var o)) return ControlEndpoints.ReversalOutcome.NotFound;
            if (o.Reversed is { } done) return new(ControlEndpoints.ReversalResult.AlreadyReversed, o.Currency, done, Balance(o.Currency));
            Advance(o);
            if (o.Status is not ("Succeeded" or "PartialFailed")) return ControlEndpoints.ReversalOutcome.NotReversible(o.Status);
            // What the order still costs: the charge less what undelivered units gave back (Advance's arithmetic).
            var kept = o.Charged - (o.Units == 0 ? 0 : o.Charged * (o.Units - o.DeliverUnits) / o.Units);
            o.Reversed = kept;
            var balance = balances[o.Currency] = Balance(o.Currency) + kept;
            log.LogInformation("giftcard order {RequestId} reversed: {Amount} {Currency} back to the balance", o.RequestId, kept, o.Currency);
            return new(ControlEndpoints.ReversalResult.Reversed, o.Currency, kept, balance);
        }
    }

    public void Map(IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("/giftcard/api/integration");

        g.MapGet("/v2.0/catalog", (int? PageIndex, int? PageSize) =>
        {
            var index = Math.Max(0, PageIndex ?? 0);
            var size = Math.Clamp(PageSize ?? 100, 1, 100);
            var page = Catalog.Skip(index * size).Take(size).Select(b => new
            {
                id = b.Id, name = b.Name, countryCode = b.CountryCode, currencyCode = b.CurrencyCode,
                products = b.Products.Select(p => new
                {
                    id = p.Id, name = p.Name, minFaceValue = p.MinFaceValue, maxFaceValue = p.MaxFaceValue,
                    price = new { min = p.Price.Min, max = p.Price.Max, currencyCode = p.Price.CurrencyCode },
                }),
            });
            return Results.Ok(new { pageIndex = index, pageSize = size, count = Catalog.Count, items = page });
        });

        g.MapGet("/v1.0/accounts", () =>
        {
            lock (gate)
                return Results.Ok(new
                {
                    accounts = Catalog.Select(b => b.CurrencyCode).Distinct().Select(c => new
                    {
                        id = $"{options.GiftCard.AccountId}-{c}", currency = c, balance = Balance(c), isActive = true,
                    }),
                });
        });

        g.MapPost("/v1.0/orders/checkout", (HttpContext http, JsonElement body) => Checkout(http, body));

        g.MapGet("/v1.0/orders/{requestId}", (string requestId) =>
        {
            lock (gate)
            {
                if (!orders.TryGetValue(requestId, out var o))
                    return Results.NotFound(new { error = "OrderNotFound", message = $"no order with request id {requestId}" });
                Advance(o);
                return Results.Ok(View(o));
            }
        });
    }

    private IResult Checkout(HttpContext http, JsonElement body)
    {
        CheckoutRequest? req;
        try { req = body.Deserialize<CheckoutRequest>(SimulatorApp.Json); }
        catch (JsonException e) { return Bad("InvalidRequest", e.Message); }
        if (req is null || !Guid.TryParse(req.RequestId, out _)) return Bad("InvalidRequestId", "requestId must be a GUID");
        if (req.Products is not { Count: > 0 }) return Bad("InvalidRequest", "products is empty");
        if (req.Products.Count > 100) return Bad("TooManyProducts", "at most 100 products per checkout");

        lock (gate)
        {
            if (orders.ContainsKey(req.RequestId!))
                return Results.Json(new { error = "DuplicateRequestId", message = $"an order with request id {req.RequestId} exists" },
                    statusCode: 409);

            string? currency = null;
            decimal cost = 0;
            var lines = new List<Line>();
            foreach (var line in req.Products)
            {
                if (Find(line.ProductId) is not var (brand, product))
                    return Bad("ProductNotFound", $"product {line.ProductId} does not exist");
                if (line.Quantity is < 1 or > 100) return Bad("InvalidQuantity", "quantity must be 1..100");
                if (line.Value < product.MinFaceValue || line.Value > product.MaxFaceValue)
                    return Bad("InvalidFaceValue", $"value must be within {product.MinFaceValue}..{product.MaxFaceValue}");
                if (currency is not null && currency != brand.CurrencyCode) return Bad("MixedCurrencies", "one currency per order");
                currency = brand.CurrencyCode;
                var unitPrice = product.MinFaceValue == product.MaxFaceValue ? product.Price.Min : line.Value * product.Price.Min
                    / product.MinFaceValue;
                cost += unitPrice * line.Quantity;
                lines.Add(new Line(line.ProductId, line.Quantity, line.Value));
            }
            if (req.AccountId is not null && req.AccountId != options.GiftCard.AccountId && req.AccountId
                != $"{options.GiftCard.AccountId}-{currency}")
                return Bad("AccountNotFound", "unknown accountId");

            // Scripts match per item (its product id), so one item of a multi-product checkout can fail alone; a reject
            // of any item refuses the whole checkout, as a vendor validating the request would.
            foreach (var line in lines)
                if (scripts.Take(Name, "checkout", line.ProductId.ToString(), req.RequestId, ["reject"]) is { } reject)
                    return Bad("Rejected", reject.Reason ?? "rejected by the vendor",
                        reject.Status is >= 400 and < 500 and not 409 and not 429 ? reject.Status : 400);
            if (Balance(currency!) < cost) return Bad("InsufficientBalance", "the account balance is too low");

            var now = time.GetUtcNow();
            var order = new Order { RequestId = req.RequestId!, AccountId = req.AccountId ?? options.GiftCard.AccountId!, Lines = lines,
                Currency = currency!, CreatedAt = now };
            Script? slow = null;
            foreach (var line in lines)
            {
                var productId = line.ProductId.ToString();
                var shape = scripts.Take(Name, "checkout", productId, req.RequestId, ["fail", "partial", "slow"]);
                if (shape?.Action == "slow") slow ??= shape;
                else slow ??= scripts.Take(Name, "checkout", productId, req.RequestId, ["slow"]);
                if (shape?.Action == "fail") { line.DeliverUnits = 0; line.ErrorMessage = shape.Reason ?? "the vendor could not fulfil the order"; }
                if (shape?.Action == "partial")
                {
                    line.DeliverUnits = Math.Clamp(shape.Delivered, 0, line.Quantity);
                    line.ErrorMessage = line.DeliverUnits == line.Quantity ? null : shape.Reason ?? "some cards could not be issued";
                }
            }
            order.DeliverUnits = lines.Sum(l => l.DeliverUnits);
            order.FinalStatus = order.DeliverUnits == 0 ? "Failed" : order.DeliverUnits == order.Units ? "Succeeded" : "PartialFailed";
            order.ErrorMessage = string.Join("; ", lines.Select(l => l.ErrorMessage).OfType<string>().Distinct()) is { Length: > 0 } e ? e : null;
            if (slow is not null) { order.PollsLeft = slow.Polls; order.DoneAt = now.AddMilliseconds(slow.DelayMs); }
            order.Charged = cost;
            balances[currency!] = Balance(currency!) - cost;
            orders[order.RequestId] = order;
            log.LogInformation("giftcard order {RequestId} created: {Units} unit(s), will end {FinalStatus}", order.RequestId, order.Units,
                order.FinalStatus);
            return Results.Ok(new { requestId = order.RequestId });
        }
    }

    /// <summary>Moves an order on when it is read: Created → Processing → final (after the scripted polls / delay).</summary>
    private void Advance(Order o)
    {
        if (o.Status is "Succeeded" or "Failed" or "PartialFailed") return;
        if (o.PollsLeft > 0 || time.GetUtcNow() < o.DoneAt)
        {
            if (o.PollsLeft > 0) o.PollsLeft--;
            o.Status = "Processing";
            return;
        }
        for (var item = 0; item < o.Lines.Count; item++)
            for (var i = 0; i < o.Lines[item].DeliverUnits; i++)
                o.Cards.Add((item, new Card(codes.Serial(), codes.CardCode(), codes.Pin(),
                    DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime.AddYears(1)).ToString("yyyy-MM-dd"))));
        o.Status = o.FinalStatus!;
        // Undelivered units are not charged.
        var refund = o.Units == 0 ? 0 : o.Charged * (o.Units - o.DeliverUnits) / o.Units;
        balances[o.Currency] = Balance(o.Currency) + refund;
        log.LogInformation("giftcard order {RequestId} {Status}: {Delivered}/{Units} unit(s)", o.RequestId, o.Status, o.DeliverUnits,
            o.Units);
    }

    private static object View(Order o) => new
    {
        requestId = o.RequestId,
        status = o.Status,
        errorMessage = o.Status is "Failed" or "PartialFailed" ? o.ErrorMessage : null,
        items = o.Lines.Select((l, item) => new
        {
            productId = l.ProductId,
            quantity = l.Quantity,
            value = l.Value,
            cards = o.Cards.Where(c => c.Item == item).Select(c => new
            {
                serialNumber = c.Card.SerialNumber, cardCode = c.Card.CardCode, pin = c.Card.Pin, expirationDate = c.Card.ExpirationDate,
            }),
        }),
    };

    private static IResult Bad(string error, string message, int status = 400) =>
        Results.Json(new { error, message }, statusCode: status);

    public sealed record CheckoutRequest(string? RequestId, string? AccountId, List<CheckoutLine>? Products);
    public sealed record CheckoutLine(int ProductId, int Quantity, decimal Value);
}
