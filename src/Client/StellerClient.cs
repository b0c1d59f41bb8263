using System.Net.Http.Json;
using System.Text.Json;

namespace Steller.Client;

/// <summary>The calling partner as Steller knows it.</summary>
public sealed record PartnerMe(string PartnerId, string Name, string Status);

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
