using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Steller.Application.Vendors;

namespace Steller.Infrastructure.Vendors;

/// <summary>
/// The Bamboo-like gift-card vendor over HTTP (docs/vendors.md). One checkout per purchase, keyed by the purchase's
/// RequestId. A checkout is never sent twice blindly: after a timeout or a 5xx (the vendor may have placed the order and
/// the answer been lost), and before resubmitting a purchase that <see cref="VendorPurchase.MayHaveBeenSent"/>, the client
/// first asks the vendor for the order under that RequestId, and submits only when the vendor has none. A repeated
/// checkout that still happens (another node) answers 409 "DuplicateRequestId": the client then polls the first order.
/// With a <see cref="GiftCardCheckoutBatcher"/>, lines that queue for the vendor's budget share one checkout.
/// Card codes and PINs are returned, never logged.
/// </summary>
public sealed class GiftCardVendorClient(HttpClient http, GiftCardVendorSettings settings, IVendorCallObserver observer,
    ILogger<GiftCardVendorClient> log, GiftCardCheckoutBatcher? batcher = null)
    : IVendorCatalog, IVendorOrders, IVendorBalances
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerOptions.Web);
    private const string Base = "api/integration/";

    public string Vendor => VendorKinds.GiftCard;

    public async IAsyncEnumerable<VendorProduct> ReadCatalog([EnumeratorCancellation] CancellationToken ct = default)
    {
        var read = 0;
        var brands = 0;
        for (var page = 0; ; page++)
        {
            using var response = await Send(HttpMethod.Get, $"{Base}v2.0/catalog?PageIndex={page}&PageSize={settings.CatalogPageSize}",
                null, "catalog", ct);
            if (!response.IsSuccessStatusCode)
                throw new VendorUnavailableException(Vendor, $"catalog page {page} answered HTTP {(int)response.StatusCode}");
            var body = await response.Content.ReadFromJsonAsync<CatalogPage>(Json, ct)
                       ?? throw new VendorUnavailableException(Vendor, $"catalog page {page} was empty");
            foreach (var brand in body.Items ?? [])
                foreach (var product in brand.Products ?? [])
                    if (Convert(brand, product) is { } p)
                    {
                        read++;
                        yield return p;
                    }
            brands += body.Items?.Count ?? 0;
            if (body.Items is not { Count: > 0 } || brands >= body.Count) break;
        }
        observer.CatalogSynced(Vendor, read, DateTimeOffset.UtcNow);
        log.LogInformation("{Vendor} catalog read: {Products} products of {Brands} brands", Vendor, read, brands);
    }

    /// <summary>
    /// One catalog product in Steller's terms (rounding rules: <see cref="VendorMoney"/>). Fixed face value (min = max):
    /// absolute cost = price.min, rounded up. Range: cost as a discount off face value, the smaller of the discounts at
    /// both ends, rounded down. Products priced in another currency than their face value, or with a face value that
    /// the currency cannot express, are skipped (logged).
    /// </summary>
    internal VendorProduct? Convert(Brand brand, Product product)
    {
        var currency = brand.CurrencyCode ?? "";
        if (!Steller.Domain.Currency.TryParse(currency, out _) || product.Price is null || product.Price.CurrencyCode != currency)
        {
            log.LogWarning("{Vendor} product {ProductId} skipped: face value in '{Currency}' but priced in '{PriceCurrency}'",
                Vendor, product.Id, currency, product.Price?.CurrencyCode);
            return null;
        }
        var fixedFace = product.MinFaceValue == product.MaxFaceValue;
        if (fixedFace)
        {
            if (VendorMoney.ExactToMinor(product.MinFaceValue, currency) is not { } face)
            {
                log.LogWarning("{Vendor} product {ProductId} skipped: face value {Face} is not whole {Currency} minor units", Vendor,
                    product.Id, product.MinFaceValue, currency);
                return null;
            }
            return new VendorProduct(Vendor, product.Id.ToString(), product.Name ?? "", brand.Name ?? "", brand.CountryCode ?? "", currency,
                "gift_card", FixedFaceValue: face, MinFaceValue: null, MaxFaceValue: null,
                CostAmount: VendorMoney.CostToMinor(product.Price.Min, currency), DiscountBasisPoints: null);
        }
        if (product.MinFaceValue <= 0 || product.MaxFaceValue < product.MinFaceValue)
        {
            log.LogWarning("{Vendor} product {ProductId} skipped: face value range {Min}..{Max}", Vendor, product.Id, product.MinFaceValue,
                product.MaxFaceValue);
            return null;
        }
        var discount = Math.Min(1 - product.Price.Min / product.MinFaceValue, 1 - product.Price.Max / product.MaxFaceValue);
        return new VendorProduct(Vendor, product.Id.ToString(), product.Name ?? "", brand.Name ?? "", brand.CountryCode ?? "", currency,
            "gift_card", FixedFaceValue: null,
            MinFaceValue: VendorMoney.MinimumToMinor(product.MinFaceValue, currency),
            MaxFaceValue: VendorMoney.MaximumToMinor(product.MaxFaceValue, currency),
            CostAmount: null, DiscountBasisPoints: VendorMoney.DiscountToBasisPoints(discount));
    }

    /// <summary>
    /// Submits a purchase. With batching on (<see cref="GiftCardCheckoutBatcher"/>), lines waiting for the vendor's budget
    /// leave together in one checkout; a line that may have been sent is first looked up in its batch, then under its own
    /// request id, and only then queued again.
    /// </summary>
    public async Task<VendorPurchaseResult> Submit(VendorPurchase purchase, CancellationToken ct = default)
    {
        if (batcher is null) return await SubmitOne(purchase, ct);
        if (Invalid(purchase) is { } invalid) return invalid;
        if (purchase.MayHaveBeenSent)
        {
            if (await batcher.BatchOf(purchase.RequestId, ct) is { } batch) return await batcher.Resend(batch, purchase, this, ct);
            if (await FollowIfSent(purchase, ct) is { } own) return own;
        }
        return await batcher.Enqueue(purchase with { MayHaveBeenSent = false }, this, ct);
    }

    public async Task<VendorPurchaseResult> Poll(VendorPurchase purchase, CancellationToken ct = default)
    {
        if (batcher is not null && await batcher.BatchOf(purchase.RequestId, ct) is { } batch)
            return await batcher.StatusIn(batch, purchase.RequestId, this, ct);
        return (await FindOrder(purchase.RequestId, ct))?.Whole() ?? NeverSubmitted;
    }

    /// <summary>
    /// Steller's prepaid balance in <paramref name="currency"/>: the active account of that currency among the vendor's accounts
    /// (the configured account id, or "{accountId}-{currency}", when several are listed). Anything else is refused.
    /// </summary>
    public async Task<VendorReportedBalance> Balance(string currency, CancellationToken ct = default)
    {
        using var response = await Send(HttpMethod.Get, $"{Base}v1.0/accounts", null, "accounts", ct);
        if (!response.IsSuccessStatusCode)
            throw new VendorUnavailableException(Vendor, $"accounts answered HTTP {(int)response.StatusCode}");
        AccountsView? body;
        try { body = await response.Content.ReadFromJsonAsync<AccountsView>(Json, ct); }
        catch (Exception e) when (e is JsonException or NotSupportedException)
        {
            throw new VendorUnavailableException(Vendor, "accounts answered a body that is not the accounts list");
        }
        var accounts = (body?.Accounts ?? []).Where(a => a is not null).Take(1_000).ToList();
        var inCurrency = accounts.Where(a => a.Currency == currency && a.IsActive != false).ToList();
        var mine = inCurrency.Where(a => a.Id == settings.AccountId || a.Id == $"{settings.AccountId}-{currency}").ToList();
        var chosen = (mine.Count > 0 ? mine : inCurrency) switch
        {
            [var one] => one,
            [] => throw new VendorUnavailableException(Vendor, $"the vendor lists no active {currency} account"),
            _ => throw new VendorUnavailableException(Vendor, $"the vendor lists several active {currency} accounts"),
        };
        if (chosen.Balance is not { } balance) throw new VendorUnavailableException(Vendor, $"the {currency} account has no balance");
        return VendorBalances.Check(Vendor, currency, balance);
    }

    internal static readonly VendorPurchaseResult NeverSubmitted = Failed("the vendor has no order with this request id (never submitted)");

    private static VendorPurchaseResult? Invalid(VendorPurchase purchase) =>
        !int.TryParse(purchase.VendorProductId, out _) ? Failed($"'{purchase.VendorProductId}' is not a product id of the gift-card vendor")
        : purchase.Quantity < 1 ? Failed("quantity must be at least 1")
        : null;

    /// <summary>One purchase in a checkout of its own, under its own request id.</summary>
    internal async Task<VendorPurchaseResult> SubmitOne(VendorPurchase purchase, CancellationToken ct)
    {
        if (Invalid(purchase) is { } invalid) return invalid;
        if (purchase.MayHaveBeenSent && await FollowIfSent(purchase, ct) is { } known) return known;
        var outcome = await Checkout(purchase.RequestId,
            [new CheckoutItem(purchase.RequestId, purchase.VendorProductId, purchase.Quantity, purchase.FaceValue, purchase.Currency)], ct);
        return outcome switch
        {
            CheckoutOutcome.Placed => new VendorPurchaseResult(VendorPurchaseStatus.Processing, 0, [], null),
            CheckoutOutcome.Known lost => lost.Order.Whole(),
            CheckoutOutcome.AlreadyPlaced => (await FindOrder(purchase.RequestId, ct))?.Whole() ?? NeverSubmitted,
            CheckoutOutcome.Rejected rejected => Failed(rejected.Reason),
            _ => throw new InvalidOperationException(outcome.ToString()),
        };
    }

    /// <summary>The vendor's order under the purchase's own request id, when an earlier attempt did send it; else null.</summary>
    private async Task<VendorPurchaseResult?> FollowIfSent(VendorPurchase purchase, CancellationToken ct)
    {
        if (await FindOrder(purchase.RequestId, ct) is not { } sent) return null;
        log.LogInformation("{Vendor} order {RequestId} was already submitted; following it instead of submitting again", Vendor,
            purchase.RequestId);
        return sent.Whole();
    }

    /// <summary>What became of one checkout request.</summary>
    internal abstract record CheckoutOutcome
    {
        /// <summary>The vendor accepted it (it is processing).</summary>
        public sealed record Placed : CheckoutOutcome;
        /// <summary>The answer was lost but the vendor has the order: here it is.</summary>
        public sealed record Known(VendorOrder Order) : CheckoutOutcome;
        /// <summary>The vendor has an order under this request id already (409): follow it.</summary>
        public sealed record AlreadyPlaced : CheckoutOutcome;
        /// <summary>Refused outright; nothing was created at the vendor.</summary>
        public sealed record Rejected(string Reason) : CheckoutOutcome;
    }

    /// <summary>
    /// Sends one checkout of <paramref name="items"/> under <paramref name="requestId"/>, never twice blindly: after a
    /// timeout or a 5xx it asks the vendor for the order first and sends again only when the vendor has none.
    /// </summary>
    internal async Task<CheckoutOutcome> Checkout(string requestId, IReadOnlyList<CheckoutItem> items, CancellationToken ct)
    {
        var body = new
        {
            requestId,
            accountId = settings.AccountId,
            products = items.Select(i => new { productId = int.Parse(i.VendorProductId, System.Globalization.CultureInfo.InvariantCulture),
                quantity = i.Quantity, value = VendorMoney.ToMajor(i.FaceValue, i.Currency) }).ToArray(),
        };
        HttpResponseMessage? response = null;
        for (var attempt = 0; response is null; attempt++)
        {
            try
            {
                response = await Send(HttpMethod.Post, $"{Base}v1.0/orders/checkout", body, "checkout", ct, notBlindlyRepeated: true);
            }
            catch (VendorUnavailableException e)
            {
                // A timeout or a 5xx: the vendor may have placed the order and lost the answer. Ask before sending it again.
                if (await FindOrder(requestId, ct) is { } placed)
                {
                    log.LogInformation("{Vendor} order {RequestId}: the checkout's answer was lost ({Error}) but the vendor has the order",
                        Vendor, requestId, e.Message);
                    return new CheckoutOutcome.Known(placed);
                }
                if (attempt >= settings.Http.MaxRetries) throw;
                var delay = settings.Http.RetryBaseDelay * Math.Pow(2, attempt) * (0.8 + Random.Shared.NextDouble() * 0.4);
                log.LogWarning("{Vendor} order {RequestId}: checkout failed ({Error}) and the vendor has no such order; submitting again in {Delay} ms",
                    Vendor, requestId, e.Message, (int)delay.TotalMilliseconds);
                await Task.Delay(delay, ct);
            }
        }
        using var _ = response;
        if (response.IsSuccessStatusCode)
        {
            log.LogInformation("{Vendor} order {RequestId} submitted ({Items} product(s), {Quantity} unit(s))", Vendor, requestId,
                items.Count, items.Sum(i => i.Quantity));
            return new CheckoutOutcome.Placed();
        }
        var error = await Error(response, ct);
        if (response.StatusCode == HttpStatusCode.Conflict || error.Code.Contains("Duplicate", StringComparison.OrdinalIgnoreCase))
        {
            // Already submitted (a retry after a lost answer, or a resubmission after a crash): follow the first order.
            log.LogInformation("{Vendor} order {RequestId} was already submitted; polling it", Vendor, requestId);
            return new CheckoutOutcome.AlreadyPlaced();
        }
        log.LogWarning("{Vendor} order {RequestId} rejected: HTTP {Status} {Code}", Vendor, requestId, (int)response.StatusCode, error.Code);
        return new CheckoutOutcome.Rejected($"rejected by the vendor: HTTP {(int)response.StatusCode} {error.Code}: {error.Message}");
    }

    /// <summary>The vendor's order under <paramref name="requestId"/>; null when the vendor has none (HTTP 404).</summary>
    internal async Task<VendorOrder?> FindOrder(string requestId, CancellationToken ct)
    {
        using var response = await Send(HttpMethod.Get, $"{Base}v1.0/orders/{Uri.EscapeDataString(requestId)}", null, "order", ct);
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        if (!response.IsSuccessStatusCode)
        {
            var error = await Error(response, ct);
            return new VendorOrder(VendorPurchaseStatus.Failed,
                $"order status refused: HTTP {(int)response.StatusCode} {error.Code}: {error.Message}", []);
        }
        var order = await response.Content.ReadFromJsonAsync<OrderView>(Json, ct)
                    ?? throw new VendorUnavailableException(Vendor, "order status was empty");
        var status = order.Status switch
        {
            "Succeeded" => VendorPurchaseStatus.Succeeded,
            "PartialFailed" => VendorPurchaseStatus.PartialFailed,
            "Failed" => VendorPurchaseStatus.Failed,
            _ => VendorPurchaseStatus.Processing, // Created, Processing, anything new
        };
        var items = (order.Items ?? []).Select(i => (IReadOnlyList<VendorCard>)(i.Cards ?? [])
            .Select(c => new VendorCard(c.SerialNumber ?? "", c.CardCode ?? "", c.Pin,
                DateOnly.TryParse(c.ExpirationDate?.Length >= 10 ? c.ExpirationDate[..10] : c.ExpirationDate, out var d) ? d : null))
            .ToList()).ToList();
        if (status != VendorPurchaseStatus.Processing)
            log.LogInformation("{Vendor} order {RequestId} {Status}: {Delivered} card(s)", Vendor, requestId, status, items.Sum(i => i.Count));
        return new VendorOrder(status, status is VendorPurchaseStatus.Failed or VendorPurchaseStatus.PartialFailed
            ? order.ErrorMessage ?? $"the vendor reported {order.Status}" : null, items);
    }

    private Task<HttpResponseMessage> Send(HttpMethod method, string path, object? body, string operation, CancellationToken ct,
        bool notBlindlyRepeated = false)
    {
        var request = new HttpRequestMessage(method, path);
        if (notBlindlyRepeated) request.Options.Set(VendorHttpPipeline.NotBlindlyRepeated, true);
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            System.Convert.ToBase64String(Encoding.UTF8.GetBytes($"{settings.ClientId}:{settings.ClientSecret}")));
        if (body is not null) request.Content = new StringContent(JsonSerializer.Serialize(body, Json), Encoding.UTF8, "application/json");
        return VendorHttp.Send(http, Vendor, operation, request, log, ct);
    }

    private static async Task<(string Code, string Message)> Error(HttpResponseMessage response, CancellationToken ct)
    {
        try
        {
            var e = await response.Content.ReadFromJsonAsync<ErrorBody>(Json, ct);
            return (e?.Error ?? response.StatusCode.ToString(), e?.Message ?? "");
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException)
        {
            return (response.StatusCode.ToString(), "");
        }
    }

    internal static VendorPurchaseResult Failed(string reason) => new(VendorPurchaseStatus.Failed, 0, [], reason);

    internal sealed record CatalogPage(int PageIndex, int PageSize, int Count, List<Brand>? Items);
    internal sealed record Brand(int Id, string? Name, string? CountryCode, string? CurrencyCode, List<Product>? Products);
    internal sealed record Product(int Id, string? Name, decimal MinFaceValue, decimal MaxFaceValue, Price? Price);
    internal sealed record Price(decimal Min, decimal Max, string? CurrencyCode);
    private sealed record OrderView(string? RequestId, string? Status, string? ErrorMessage, List<OrderItem>? Items);
    private sealed record OrderItem(int ProductId, int Quantity, List<CardView>? Cards);
    private sealed record CardView(string? SerialNumber, string? CardCode, string? Pin, string? ExpirationDate);
    private sealed record ErrorBody(string? Error, string? Message);
    private sealed record AccountsView(List<AccountView>? Accounts);
    private sealed record AccountView(string? Id, string? Currency, decimal? Balance, bool? IsActive);
}

/// <summary>
/// A vendor order as Steller reads it: its status, and per item (checkout line, in the order sent) the cards delivered.
/// The vendor's answer is untrusted: an item missing from it, or more cards than units, never becomes more than was bought.
/// </summary>
public sealed record VendorOrder(VendorPurchaseStatus Status, string? FailureReason, IReadOnlyList<IReadOnlyList<VendorCard>> Items)
{
    /// <summary>The order as one purchase (a checkout of one line, under the line's own request id).</summary>
    public VendorPurchaseResult Whole()
    {
        if (Status == VendorPurchaseStatus.Processing) return new(Status, 0, [], null);
        var cards = Items.SelectMany(i => i).ToList();
        return new(Status, cards.Count, cards, FailureReason);
    }

    /// <summary>Item <paramref name="index"/> of a batch as the purchase of its line: its own status from its own cards.</summary>
    public VendorPurchaseResult Item(int index, int quantity)
    {
        if (Status == VendorPurchaseStatus.Processing) return new(Status, 0, [], null);
        if (index < 0 || index >= Items.Count)
            return new(VendorPurchaseStatus.Failed, 0, [], FailureReason ?? $"the vendor's order has no item {index + 1}");
        var cards = Items[index].Take(quantity).ToList();
        var status = cards.Count == quantity ? VendorPurchaseStatus.Succeeded
            : cards.Count == 0 ? VendorPurchaseStatus.Failed : VendorPurchaseStatus.PartialFailed;
        return new(status, cards.Count, cards, status == VendorPurchaseStatus.Succeeded ? null
            : FailureReason ?? "the vendor did not deliver every card of this item");
    }
}
