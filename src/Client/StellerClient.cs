using System.Net.Http.Json;
using System.Text.Json;

namespace Steller.Client;

/// <summary>The calling partner as Steller knows it.</summary>
public sealed record PartnerMe(string PartnerId, string Name, string Status);

/// <summary>Amounts are integer minor units of the wallet's currency.</summary>
public sealed record Wallet(string PartnerId, string Currency, long Posted, long Pending, long Available, long CreditLimit, bool Frozen);
public sealed record WalletList(string PartnerId, IReadOnlyList<Wallet> Wallets);
public sealed record StatementEntry(DateTime RecordedAt, string Kind, string TransferId, string? OrderId, string CounterAccount, long Amount, long BalanceAfter, string? Reference);
public sealed record StatementPage(Wallet Wallet, IReadOnlyList<StatementEntry> Entries, string? NextCursor);

/// <summary>A refused call: the HTTP status and the problem's stable <see cref="Code"/> (e.g. "signature_expired").</summary>
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
    public static StellerClient Create(Uri baseAddress, string keyId, string secret, HttpMessageHandler? inner = null, TimeProvider? time = null) =>
        new(new HttpClient(new SigningHandler(keyId, secret, time, inner)) { BaseAddress = baseAddress });

    public Task<PartnerMe> GetMe(CancellationToken ct = default) => Send<PartnerMe>(new HttpRequestMessage(HttpMethod.Get, "v1/me"), ct);

    /// <summary>The partner's wallets (from the read model: a command is visible here a moment after it was accepted).</summary>
    public Task<WalletList> GetWallets(CancellationToken ct = default) => Send<WalletList>(new HttpRequestMessage(HttpMethod.Get, "v1/wallets"), ct);

    /// <summary>One page of a wallet's statement; pass <see cref="StatementPage.NextCursor"/> as <paramref name="after"/> for the next.</summary>
    public Task<StatementPage> GetStatement(string currency, DateTimeOffset? from = null, DateTimeOffset? to = null, int? limit = null, string? after = null,
        CancellationToken ct = default) =>
        Send<StatementPage>(new HttpRequestMessage(HttpMethod.Get, $"v1/wallets/{Uri.EscapeDataString(currency)}/statement{Query(from, to, limit, after)}"), ct);

    /// <summary>The whole range of a wallet's statement as CSV text.</summary>
    public async Task<string> GetStatementCsv(string currency, DateTimeOffset? from = null, DateTimeOffset? to = null, CancellationToken ct = default)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, $"v1/wallets/{Uri.EscapeDataString(currency)}/statement{Query(from, to, null, null)}");
        request.Headers.Accept.ParseAdd("text/csv");
        using var response = await http.SendAsync(request, ct);
        if (!response.IsSuccessStatusCode) throw new StellerApiException((int)response.StatusCode, "http_" + (int)response.StatusCode, response.ReasonPhrase);
        return await response.Content.ReadAsStringAsync(ct);
    }

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
