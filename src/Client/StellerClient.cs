using System.Net.Http.Json;
using System.Text.Json;

namespace Steller.Client;

/// <summary>The calling partner as Steller knows it.</summary>
public sealed record PartnerMe(string PartnerId, string Name, string Status);

/// <summary>Amounts are integer minor units of the wallet's currency.</summary>
public sealed record Wallet(string PartnerId, string Currency, long Posted, long Pending, long Available, long CreditLimit, bool Frozen);
public sealed record WalletList(string PartnerId, IReadOnlyList<Wallet> Wallets);
public sealed record StatementEntry(DateTime RecordedAt, string Kind, string TransferId, string? OrderId, string CounterAccount,
    long Amount, long BalanceAfter, string? Reference);
public sealed record StatementPage(Wallet Wallet, IReadOnlyList<StatementEntry> Items, string? Next);

/// <summary>A refused call: the HTTP status and the problem's stable <see cref="Code"/> (e.g. "signature_expired").</summary>
public sealed record NewOrderLine(string Sku, int Quantity, long FaceValue);
public sealed record PlacedLine(int LineNo, string Sku, int Quantity, long FaceValue, long? UnitPrice, string? ProductType);
/// <summary>The answer to placing an order: its id and how placement ended ("FundsHeld": accepted).</summary>
public sealed record Placement(string OrderId, string ClientReference, string Status, string? Currency, long Total,
    IReadOnlyList<PlacedLine> Lines, DateTimeOffset PlacedAt);
public sealed record DeliveredCard(string? SerialNumber, string? Code, string? Pin, DateOnly? ExpiresOn);
public sealed record PartnerOrderLine(int LineNo, string Sku, int Quantity, long FaceValue, long? UnitPrice, string? ProductType,
    int? Delivered, string? FailureReason, IReadOnlyList<DeliveredCard>? Cards);
public sealed record PartnerOrder(string OrderId, string ClientReference, string Status, string? Currency, long Total, long Captured,
    long Refunded,
    IReadOnlyList<PartnerOrderLine> Lines, DateTimeOffset PlacedAt, string? RejectionCode, string? FailureReason, long Revision);

public sealed class StellerApiException(int status, string code, string? detail)
    : Exception($"Steller refused the request: {status} {code}{(detail is null ? "" : $" ({detail})")}")
{
    public int Status { get; } = status;
    public string Code { get; } = code;
    public string? Detail { get; } = detail;
}

/// <summary>
/// A typed client for Steller's partner API. Every request is signed by <see cref="SigningHandler"/>.
/// <code>using var steller = StellerClient.Create(new Uri("https://api.steller.example"), keyId, secret);
/// var me = await steller.GetMe();</code>
/// </summary>
public sealed class StellerClient(HttpClient http) : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public HttpClient Http => http;

    /// <summary>A client over its own <see cref="HttpClient"/> with a <see cref="SigningHandler"/>.</summary>
    public static StellerClient Create(Uri baseAddress, string keyId, string secret, HttpMessageHandler? inner = null,
            TimeProvider? time = null) =>
        new(new HttpClient(new SigningHandler(keyId, secret, time, inner)) { BaseAddress = baseAddress });

    public Task<PartnerMe> GetMe(CancellationToken ct = default) => Send<PartnerMe>(new HttpRequestMessage(HttpMethod.Get, "v1/me"), ct);

    /// <summary>The partner's wallets (from the read model: a command is visible here a moment after it was accepted).</summary>
    public Task<WalletList> GetWallets(CancellationToken ct = default)
        => Send<WalletList>(new HttpRequestMessage(HttpMethod.Get, "v1/wallets"), ct);

    /// <summary>One page of a wallet's statement; pass <see cref="StatementPage.Next"/> as <paramref name="after"/> for the next.</summary>
    public Task<StatementPage> GetStatement(string currency, DateTimeOffset? from = null, DateTimeOffset? to = null, int? limit = null,
        string? after = null, CancellationToken ct = default) =>
        Send<StatementPage>(new HttpRequestMessage(
            HttpMethod.Get, $"v1/wallets/{Uri.EscapeDataString(currency)}/statement{Query(from, to, limit, after)}"), ct);

    /// <summary>The whole range of a wallet's statement as CSV text.</summary>
    public async Task<string> GetStatementCsv(string currency, DateTimeOffset? from = null, DateTimeOffset? to = null,
        CancellationToken ct = default)
    {
        var request = new HttpRequestMessage(
            HttpMethod.Get, $"v1/wallets/{Uri.EscapeDataString(currency)}/statement{Query(from, to, null, null)}");
        request.Headers.Accept.ParseAdd("text/csv");
        using var response = await http.SendAsync(request, ct);
        if (!response.IsSuccessStatusCode)
            throw new StellerApiException((int)response.StatusCode, "http_" + (int)response.StatusCode, response.ReasonPhrase);
        return await response.Content.ReadAsStringAsync(ct);
    }

    /// <summary>
    /// Places an order (idempotent by <paramref name="clientReference"/>: send the same again after a timeout and get
    /// the same order). A refused order throws <see cref="StellerApiException"/> with the reason as its code.
    /// </summary>
    public Task<Placement> PlaceOrder(string clientReference, IReadOnlyList<NewOrderLine> lines, string? recipientPhone = null,
        string? recipientEmail = null, CancellationToken ct = default) =>
        Send<Placement>(new HttpRequestMessage(HttpMethod.Post, "v1/orders")
        {
            Content = JsonContent.Create(new
            {
                clientReference,
                lines,
                recipient = recipientPhone is null && recipientEmail is null ? null
                    : new { phone = recipientPhone, email = recipientEmail },
            }, options: Json),
        }, ct);

    /// <summary>One of the partner's orders now, with delivered codes and PINs.</summary>
    public Task<PartnerOrder> GetOrder(string orderId, CancellationToken ct = default) =>
        Send<PartnerOrder>(new HttpRequestMessage(HttpMethod.Get, $"v1/orders/{Uri.EscapeDataString(orderId)}"), ct);

    private static string Query(DateTimeOffset? from, DateTimeOffset? to, int? limit, string? after)
    {
        var parts = new List<string>();
        if (from is { } f) parts.Add($"from={Uri.EscapeDataString(f.UtcDateTime.ToString("O"))}");
        if (to is { } t) parts.Add($"to={Uri.EscapeDataString(t.UtcDateTime.ToString("O"))}");
        if (limit is { } l) parts.Add($"limit={l}");
        if (after is not null) parts.Add($"after={Uri.EscapeDataString(after)}");
        return parts.Count == 0 ? "" : "?" + string.Join("&", parts);
    }

    private async Task<T> Send<T>(HttpRequestMessage request, CancellationToken ct)
    {
        using var response = await http.SendAsync(request, ct);
        if (!response.IsSuccessStatusCode)
        {
            string code = "http_" + (int)response.StatusCode, detail = response.ReasonPhrase ?? "";
            try
            {
                var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Json, ct);
                if (problem.TryGetProperty("code", out var c) && c.GetString() is { } s) code = s;
                if (problem.TryGetProperty("detail", out var d) && d.GetString() is { } t) detail = t;
            }
            catch (JsonException) { }
            throw new StellerApiException((int)response.StatusCode, code, detail);
        }
        return (await response.Content.ReadFromJsonAsync<T>(Json, ct))!;
    }

    public void Dispose() => http.Dispose();
}
