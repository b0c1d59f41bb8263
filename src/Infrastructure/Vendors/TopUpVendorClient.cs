using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Steller.Application.Vendors;

namespace Steller.Infrastructure.Vendors;

/// <summary>
/// The DingConnect-like top-up vendor over HTTP (docs/vendors.md). One transfer per unit: unit i of a purchase is sent with
/// DistributorRef <c>{RequestId}-{i}</c>, so a resubmission re-sends the same refs and the vendor creates nothing new
/// (it answers the existing transfer). Statuses are aggregated: any Processing → Processing; all Complete → Succeeded;
/// some Complete → PartialFailed; none → Failed.
/// </summary>
public sealed class TopUpVendorClient(HttpClient http, TopUpVendorSettings settings, IVendorCallObserver observer,
    ILogger<TopUpVendorClient> log)
    : IVendorCatalog, IVendorOrders, IVendorBalances
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerOptions.Web) { PropertyNamingPolicy = null };
    private const string Base = "api/V1/";

    public string Vendor => VendorKinds.TopUp;

    public async IAsyncEnumerable<VendorProduct> ReadCatalog([EnumeratorCancellation] CancellationToken ct = default)
    {
        var countries = Uri.EscapeDataString(string.Join(",", settings.Countries));
        var providers = await Get<ItemsOf<ProviderView>>($"{Base}GetProviders?countryIsos={countries}", "providers", ct);
        var byCode = (providers.Items ?? []).Where(p => p.ProviderCode is not null).ToDictionary(p => p.ProviderCode!);
        var products = await Get<ItemsOf<ProductView>>($"{Base}GetProducts?countryIsos={countries}", "products", ct);
        var read = 0;
        foreach (var p in products.Items ?? [])
            if (byCode.TryGetValue(p.ProviderCode ?? "", out var provider) && Convert(provider, p) is { } product)
            {
                read++;
                yield return product;
            }
        observer.CatalogSynced(Vendor, read, DateTimeOffset.UtcNow);
        log.LogInformation("{Vendor} catalog read: {Products} products of {Providers} providers", Vendor, read, byCode.Count);
    }

    /// <summary>
    /// Face value = SendValue (what the distributor charges, in the send currency); cost = face value less the
    /// CommissionRate (percent → basis points, rounded down so the cost is never under-stated). Fixed when the minimum
    /// and maximum SendValue are equal.
    /// </summary>
    internal VendorProduct? Convert(ProviderView provider, ProductView p)
    {
        var currency = p.Minimum?.SendCurrencyIso ?? "";
        if (p.SkuCode is null || p.Minimum is null || p.Maximum is null || !Steller.Domain.Currency.TryParse(currency, out _)
            || p.Maximum.SendCurrencyIso != currency)
        {
            log.LogWarning("{Vendor} product {SkuCode} skipped: incomplete send values", Vendor, p.SkuCode);
            return null;
        }
        var discount = VendorMoney.DiscountToBasisPoints(p.CommissionRate / 100m);
        if (p.Minimum.SendValue == p.Maximum.SendValue)
            return VendorMoney.ExactToMinor(p.Minimum.SendValue, currency) is { } face
                ? new VendorProduct(Vendor, p.SkuCode, p.DefaultDisplayText ?? p.SkuCode, provider.Name ?? provider.ProviderCode!,
                    provider.CountryIso ?? "",
                    currency, "top_up", FixedFaceValue: face, MinFaceValue: null, MaxFaceValue: null, CostAmount: null,
                        DiscountBasisPoints: discount)
                : null;
        return new VendorProduct(Vendor, p.SkuCode, p.DefaultDisplayText ?? p.SkuCode, provider.Name ?? provider.ProviderCode!,
            provider.CountryIso ?? "", currency, "top_up", FixedFaceValue: null,
            MinFaceValue: VendorMoney.MinimumToMinor(p.Minimum.SendValue, currency),
            MaxFaceValue: VendorMoney.MaximumToMinor(p.Maximum.SendValue, currency),
            CostAmount: null, DiscountBasisPoints: discount);
    }

    public async Task<VendorPurchaseResult> Submit(VendorPurchase purchase, CancellationToken ct = default)
    {
        if (string.IsNullOrWhiteSpace(purchase.RecipientPhone))
            return new VendorPurchaseResult(VendorPurchaseStatus.Failed, 0, [], "a top-up needs the recipient's phone number (E.164)");
        if (purchase.Quantity < 1)
            return new VendorPurchaseResult(VendorPurchaseStatus.Failed, 0, [], "quantity must be at least 1");
        var units = new List<Unit>(purchase.Quantity);
        for (var i = 1; i <= purchase.Quantity; i++)
        {
            var reference = DistributorRef(purchase.RequestId, i);
            var body = new
            {
                SkuCode = purchase.VendorProductId,
                SendValue = VendorMoney.ToMajor(purchase.FaceValue, purchase.Currency),
                AccountNumber = purchase.RecipientPhone,
                DistributorRef = reference,
                ValidateOnly = false,
            };
            using var response = await Send(HttpMethod.Post, $"{Base}SendTransfer", body, "transfer", ct);
            if (response.IsSuccessStatusCode)
            {
                var sent = await response.Content.ReadFromJsonAsync<TransferResponse>(Json, ct);
                units.Add(Unit.Of(sent?.TransferRecord));
                if (sent?.ErrorCodes?.Any(e => e.Code == "DuplicateDistributorRef") == true)
                    log.LogInformation("{Vendor} transfer {DistributorRef} was already sent; using the existing one", Vendor, reference);
                continue;
            }
            var reason = await Reason(response, ct);
            log.LogWarning("{Vendor} transfer {DistributorRef} rejected: {Reason}", Vendor, reference, reason);
            units.Add(new Unit("Failed", reason));
        }
        return Aggregate(units);
    }

    public async Task<VendorPurchaseResult> Poll(VendorPurchase purchase, CancellationToken ct = default)
    {
        var units = new List<Unit>(purchase.Quantity);
        for (var i = 1; i <= Math.Max(1, purchase.Quantity); i++)
        {
            var reference = DistributorRef(purchase.RequestId, i);
            using var response = await Send(HttpMethod.Post, $"{Base}ListTransferRecords", new { DistributorRef = reference, Take = 1 },
                "transfers", ct);
            if (!response.IsSuccessStatusCode)
            {
                units.Add(new Unit("Failed", await Reason(response, ct)));
                continue;
            }
            var list = await response.Content.ReadFromJsonAsync<ItemsOf<TransferResponse>>(Json, ct);
            var record = list?.Items?.FirstOrDefault()?.TransferRecord;
            units.Add(record is null ? new Unit("Failed", $"the vendor has no transfer {reference} (never sent or refused)")
                : Unit.Of(record));
        }
        return Aggregate(units);
    }

    /// <summary>
    /// Steller's prepaid balance in <paramref name="currency"/> (GetBalance?currencyIso=). An answer in another currency, or without
    /// ResultCode 1, is refused.
    /// </summary>
    public async Task<VendorReportedBalance> Balance(string currency, CancellationToken ct = default)
    {
        BalanceView body;
        try { body = await Get<BalanceView>($"{Base}GetBalance?currencyIso={Uri.EscapeDataString(currency)}", "balance", ct); }
        catch (Exception e) when (e is JsonException or NotSupportedException)
        {
            throw new VendorUnavailableException(Vendor, "GetBalance answered a body that is not a balance");
        }
        if (body.ResultCode != 1 || body.Balance is not { } balance)
            throw new VendorUnavailableException(Vendor, $"GetBalance answered result code {body.ResultCode} without a balance");
        if (body.CurrencyIso != currency)
            throw new VendorUnavailableException(Vendor,
                $"GetBalance answered a balance in '{VendorText.Clean(body.CurrencyIso, 8)}', not in {currency}");
        return VendorBalances.Check(Vendor, currency, balance);
    }

    public static string DistributorRef(string requestId, int unit) => $"{requestId}-{unit}";

    /// <summary>Any Processing → Processing; all Complete → Succeeded; some → PartialFailed; none → Failed.</summary>
    internal static VendorPurchaseResult Aggregate(IReadOnlyList<Unit> units)
    {
        var complete = units.Count(u => u.State == "Complete");
        var failures = units.Where(u => u.State == "Failed").Select(u => u.Reason).Distinct().ToList();
        if (units.Any(u => u.State == "Processing")) return new VendorPurchaseResult(VendorPurchaseStatus.Processing, complete, [], null);
        if (complete == units.Count) return new VendorPurchaseResult(VendorPurchaseStatus.Succeeded, complete, [], null);
        return complete > 0
            ? new VendorPurchaseResult(VendorPurchaseStatus.PartialFailed, complete,
                [], $"{units.Count - complete} of {units.Count} unit(s) failed: {string.Join("; ", failures)}")
            : new VendorPurchaseResult(VendorPurchaseStatus.Failed, 0, [], string.Join("; ", failures));
    }

    private async Task<T> Get<T>(string path, string operation, CancellationToken ct)
    {
        using var response = await Send(HttpMethod.Get, path, null, operation, ct);
        if (!response.IsSuccessStatusCode)
            throw new VendorUnavailableException(
                Vendor, $"{operation} answered HTTP {(int)response.StatusCode}: {await Reason(response, ct)}");
        return await response.Content.ReadFromJsonAsync<T>(Json, ct)
            ?? throw new VendorUnavailableException(Vendor, $"{operation} was empty");
    }

    private Task<HttpResponseMessage> Send(HttpMethod method, string path, object? body, string operation, CancellationToken ct)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Add("api_key", settings.ApiKey);
        if (body is not null) request.Content = new StringContent(JsonSerializer.Serialize(body, Json), Encoding.UTF8, "application/json");
        return VendorHttp.Send(http, Vendor, operation, request, log, ct);
    }

    private static async Task<string> Reason(HttpResponseMessage response, CancellationToken ct)
    {
        try
        {
            var body = await response.Content.ReadFromJsonAsync<ErrorsOnly>(Json, ct);
            var codes = body?.ErrorCodes?.Select(e => e.Context is { Length: > 0 } ? $"{e.Code} ({e.Context})" : e.Code).ToList();
            return $"HTTP {(int)response.StatusCode}" + (codes is { Count: > 0 } ? ": " + string.Join(", ", codes) : "");
        }
        catch (Exception e) when (e is JsonException or NotSupportedException)
        {
            return $"HTTP {(int)response.StatusCode}";
        }
    }

    internal sealed record Unit(string State, string? Reason)
    {
        public static Unit Of(TransferRecord? r) => r switch
        {
            null => new Unit("Failed", "the vendor answered without a transfer record"),
            { ProcessingState: "Complete" } => new Unit("Complete", null),
            { ProcessingState: "Failed" } => new Unit("Failed", r.ErrorCode ?? "the transfer failed at the vendor"),
            _ => new Unit("Processing", null), // Submitted, Processing, anything new
        };
    }

    internal sealed record ItemsOf<T>(int ResultCode, List<T>? Items);
    internal sealed record ProviderView(string? ProviderCode, string? CountryIso, string? Name);
    internal sealed record ProductView(string? SkuCode, string? ProviderCode, string? DefaultDisplayText, decimal CommissionRate,
        SendReceive? Minimum, SendReceive? Maximum);
    internal sealed record SendReceive(decimal SendValue, string? SendCurrencyIso, decimal ReceiveValue, string? ReceiveCurrencyIso);
    internal sealed record TransferResponse(TransferRecord? TransferRecord, int ResultCode, List<ErrorCode>? ErrorCodes);
    internal sealed record TransferRecord(string? SkuCode, string? ProcessingState, string? ErrorCode);
    internal sealed record ErrorCode(string? Code, string? Context);
    private sealed record ErrorsOnly(int ResultCode, List<ErrorCode>? ErrorCodes);
    private sealed record BalanceView(decimal? Balance, string? CurrencyIso, int ResultCode);
}
