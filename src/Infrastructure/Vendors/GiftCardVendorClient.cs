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
/// Card codes and PINs are returned, never logged.
/// </summary>
public sealed class GiftCardVendorClient(HttpClient http, GiftCardVendorSettings settings, IVendorCallObserver observer,
    ILogger<GiftCardVendorClient> log)
    : IVendorCatalog, IVendorOrders
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

    public async Task<VendorPurchaseResult> Submit(VendorPurchase purchase, CancellationToken ct = default)
    {
        if (!int.TryParse(purchase.VendorProductId, out var productId))
            return Failed($"'{purchase.VendorProductId}' is not a product id of the gift-card vendor");
        if (purchase.Quantity < 1) return Failed("quantity must be at least 1");
        var body = new
        {
            requestId = purchase.RequestId,
            accountId = settings.AccountId,
            products = new[] { new { productId, quantity = purchase.Quantity,
                value = VendorMoney.ToMajor(purchase.FaceValue, purchase.Currency) } },
        };
        if (purchase.MayHaveBeenSent && await Find(purchase, ct) is { } known)
        {
            log.LogInformation("{Vendor} order {RequestId} was already submitted; following it instead of submitting again", Vendor,
                purchase.RequestId);
            return known;
        }
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
                if (await Find(purchase, ct) is { } placed)
                {
                    log.LogInformation("{Vendor} order {RequestId}: the checkout's answer was lost ({Error}) but the vendor has the order",
                        Vendor, purchase.RequestId, e.Message);
                    return placed;
                }
                if (attempt >= settings.Http.MaxRetries) throw;
                var delay = settings.Http.RetryBaseDelay * Math.Pow(2, attempt) * (0.8 + Random.Shared.NextDouble() * 0.4);
                log.LogWarning("{Vendor} order {RequestId}: checkout failed ({Error}) and the vendor has no such order; submitting again in {Delay} ms",
                    Vendor, purchase.RequestId, e.Message, (int)delay.TotalMilliseconds);
                await Task.Delay(delay, ct);
            }
        }
        using var _ = response;
        if (response.IsSuccessStatusCode)
        {
            log.LogInformation("{Vendor} order {RequestId} submitted ({Quantity} unit(s) of product {ProductId})", Vendor,
                purchase.RequestId, purchase.Quantity, productId);
            return new VendorPurchaseResult(VendorPurchaseStatus.Processing, 0, [], null);
        }
        var error = await Error(response, ct);
        if (response.StatusCode == HttpStatusCode.Conflict || error.Code.Contains("Duplicate", StringComparison.OrdinalIgnoreCase))
        {
            // Already submitted (a retry after a lost answer, or a resubmission after a crash): follow the first order.
            log.LogInformation("{Vendor} order {RequestId} was already submitted; polling it", Vendor, purchase.RequestId);
            return await Poll(purchase, ct);
        }
        log.LogWarning("{Vendor} order {RequestId} rejected: HTTP {Status} {Code}", Vendor, purchase.RequestId, (int)response.StatusCode,
            error.Code);
        return Failed($"rejected by the vendor: HTTP {(int)response.StatusCode} {error.Code}: {error.Message}");
    }

    public async Task<VendorPurchaseResult> Poll(VendorPurchase purchase, CancellationToken ct = default) =>
        await Find(purchase, ct) ?? Failed("the vendor has no order with this request id (never submitted)");

    /// <summary>The vendor's order under the purchase's RequestId; null when the vendor has none (HTTP 404).</summary>
    private async Task<VendorPurchaseResult?> Find(VendorPurchase purchase, CancellationToken ct)
    {
        using var response = await Send(HttpMethod.Get, $"{Base}v1.0/orders/{Uri.EscapeDataString(purchase.RequestId)}", null, "order", ct);
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        if (!response.IsSuccessStatusCode)
        {
            var error = await Error(response, ct);
            return Failed($"order status refused: HTTP {(int)response.StatusCode} {error.Code}: {error.Message}");
        }
        var order = await response.Content.ReadFromJsonAsync<OrderView>(Json, ct)
                    ?? throw new VendorUnavailableException(Vendor, "order status was empty");
        var cards = (order.Items ?? []).SelectMany(i => i.Cards ?? [])
            .Select(c => new VendorCard(c.SerialNumber ?? "", c.CardCode ?? "", c.Pin,
                DateOnly.TryParse(c.ExpirationDate?.Length >= 10 ? c.ExpirationDate[..10] : c.ExpirationDate, out var d) ? d : null))
            .ToList();
        var status = order.Status switch
        {
            "Succeeded" => VendorPurchaseStatus.Succeeded,
            "PartialFailed" => VendorPurchaseStatus.PartialFailed,
            "Failed" => VendorPurchaseStatus.Failed,
            _ => VendorPurchaseStatus.Processing, // Created, Processing, anything new
        };
        if (status != VendorPurchaseStatus.Processing)
            log.LogInformation("{Vendor} order {RequestId} {Status}: {Delivered} card(s)", Vendor, purchase.RequestId, status, cards.Count);
        return new VendorPurchaseResult(status, status == VendorPurchaseStatus.Processing ? 0 : cards.Count,
            status == VendorPurchaseStatus.Processing ? [] : cards,
            status is VendorPurchaseStatus.Failed or VendorPurchaseStatus.PartialFailed ? order.ErrorMessage
                ?? $"the vendor reported {order.Status}" : null);
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

    private static VendorPurchaseResult Failed(string reason) => new(VendorPurchaseStatus.Failed, 0, [], reason);

    internal sealed record CatalogPage(int PageIndex, int PageSize, int Count, List<Brand>? Items);
    internal sealed record Brand(int Id, string? Name, string? CountryCode, string? CurrencyCode, List<Product>? Products);
    internal sealed record Product(int Id, string? Name, decimal MinFaceValue, decimal MaxFaceValue, Price? Price);
    internal sealed record Price(decimal Min, decimal Max, string? CurrencyCode);
    private sealed record OrderView(string? RequestId, string? Status, string? ErrorMessage, List<OrderItem>? Items);
    private sealed record OrderItem(int ProductId, int Quantity, List<CardView>? Cards);
    private sealed record CardView(string? SerialNumber, string? CardCode, string? Pin, string? ExpirationDate);
    private sealed record ErrorBody(string? Error, string? Message);
}
