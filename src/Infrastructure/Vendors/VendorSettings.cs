using System.Globalization;
using Microsoft.Extensions.Configuration;
using Steller.Infrastructure.Configuration;

namespace Steller.Infrastructure.Vendors;

/// <summary>
/// Sections <c>Vendors:GiftCard</c> and <c>Vendors:TopUp</c> (env <c>STELLER__VENDORS__GIFTCARD__BASEURL</c>, ...). A vendor
/// whose <c>BaseUrl</c> is not set is not configured (Steller runs without it); once it is set, every other key is
/// validated and a bad one stops the start with one line naming the key, as <see cref="StellerSettings"/> does.
/// </summary>
public sealed record VendorSettings(GiftCardVendorSettings? GiftCard, TopUpVendorSettings? TopUp)
{
    public static VendorSettings Load(IConfiguration config)
    {
        var gc = config.GetSection("Vendors:GiftCard");
        var tu = config.GetSection("Vendors:TopUp");
        return new VendorSettings(
            string.IsNullOrWhiteSpace(gc["BaseUrl"]) ? null : new GiftCardVendorSettings(
                Http(gc, defaultRate: 0.9, defaultBurst: 1, defaultTimeoutMs: 10_000),
                ClientId: Required(gc, "ClientId", "the client id of the gift-card vendor's Basic authentication"),
                ClientSecret: Required(gc, "ClientSecret", "the client secret of the gift-card vendor's Basic authentication"),
                AccountId: Required(gc, "AccountId", "the gift-card vendor account orders are paid from"),
                CatalogPageSize: Int(gc, "CatalogPageSize", 100, 1, 100),
                MaxLinesPerCheckout: Int(gc, "MaxLinesPerCheckout", 20, 1, 100)),
            string.IsNullOrWhiteSpace(tu["BaseUrl"]) ? null : new TopUpVendorSettings(
                Http(tu, defaultRate: 5, defaultBurst: 5, defaultTimeoutMs: 15_000),
                ApiKey: Required(tu, "ApiKey", "the top-up vendor's api_key"),
                Countries: (tu["Countries"] ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    .Select(c => c.Length == 2 && c.All(char.IsAsciiLetterUpper) ? c
                        : throw Bad(tu, "Countries", $"comma-separated ISO 3166 alpha-2 codes such as 'FR,DE' (empty: all), got '{c}'"))
                    .ToArray()));
    }

    private static VendorHttpSettings Http(IConfigurationSection s, double defaultRate, int defaultBurst, int defaultTimeoutMs)
    {
        var text = s["BaseUrl"]!;
        if (!Uri.TryCreate(text.EndsWith('/') ? text : text + "/", UriKind.Absolute, out var baseUrl)
            || baseUrl.Scheme is not ("http" or "https"))
            throw Bad(s, "BaseUrl", $"an absolute http(s) URL such as 'http://127.0.0.1:5090/giftcard/', got '{text}'");
        return new VendorHttpSettings(
            BaseUrl: baseUrl,
            RequestsPerSecond: Double(s, "RequestsPerSecond", defaultRate, 0.01, 10_000),
            Burst: Int(s, "Burst", defaultBurst, 1, 10_000),
            AttemptTimeout: TimeSpan.FromMilliseconds(Int(s, "AttemptTimeoutMilliseconds", defaultTimeoutMs, 10, 300_000)),
            MaxRetries: Int(s, "MaxRetries", 3, 0, 10),
            RetryBaseDelay: TimeSpan.FromMilliseconds(Int(s, "RetryBaseDelayMilliseconds", 500, 1, 60_000)),
            DefaultRetryAfter: TimeSpan.FromSeconds(Int(s, "DefaultRetryAfterSeconds", 1, 1, 3_600)),
            MaxTokenAge: TimeSpan.FromMilliseconds(Int(s, "MaxTokenAgeMilliseconds", 400, 1, 60_000)));
    }

    private static string Required(IConfigurationSection section, string key, string expected) =>
        string.IsNullOrWhiteSpace(section[key])
            ? throw new ConfigurationException($"{section.Path}:{key} (env {StellerSettings.EnvName(section, key)}) is missing; expected "
                + $"{expected} (the vendor is configured: {section.Path}:BaseUrl is set).")
            : section[key]!;

    private static int Int(IConfigurationSection section, string key, int fallback, int min, int max)
    {
        var text = section[key];
        if (string.IsNullOrWhiteSpace(text)) return fallback;
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= min && v <= max ? v
            : throw Bad(section, key, $"a whole number from {min} to {max}, got '{text}'");
    }

    private static double Double(IConfigurationSection section, string key, double fallback, double min, double max)
    {
        var text = section[key];
        if (string.IsNullOrWhiteSpace(text)) return fallback;
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v >= min && v <= max ? v
            : throw Bad(section, key, $"a number from {min} to {max}, got '{text}'");
    }

    private static ConfigurationException Bad(IConfigurationSection section, string key, string expected) =>
        new($"{section.Path}:{key} (env {StellerSettings.EnvName(section, key)}) is invalid; expected {expected}.");
}

/// <summary>
/// How Steller calls one vendor. <see cref="RequestsPerSecond"/> and <see cref="Burst"/> are Steller's own token bucket:
/// keep them at or below the vendor's published limit (the defaults stay a little under it).
/// <see cref="MaxTokenAge"/>: a rate token older than this when its request would leave is spent unused and another taken,
/// so at most RequestsPerSecond × (1 s + MaxTokenAge) + Burst requests leave in any second; keep that within the vendor's
/// limit plus its burst.
/// </summary>
public sealed record VendorHttpSettings(
    Uri BaseUrl,
    double RequestsPerSecond,
    int Burst,
    TimeSpan AttemptTimeout,
    int MaxRetries,
    TimeSpan RetryBaseDelay,
    TimeSpan DefaultRetryAfter,
    TimeSpan MaxTokenAge);

/// <param name="MaxLinesPerCheckout">
/// Order lines one checkout may carry when lines wait for the vendor's budget (<see cref="GiftCardCheckoutBatcher"/>);
/// 1 sends every line alone.
/// </param>
public sealed record GiftCardVendorSettings(VendorHttpSettings Http, string ClientId, string ClientSecret, string AccountId,
    int CatalogPageSize, int MaxLinesPerCheckout = 20)
{
    public override string ToString()
        => $"GiftCardVendorSettings {{ BaseUrl = {Http.BaseUrl}, ClientId = {ClientId}, AccountId = {AccountId} }}"; // never the secret
}

public sealed record TopUpVendorSettings(VendorHttpSettings Http, string ApiKey, IReadOnlyList<string> Countries)
{
    public override string ToString()
        => $"TopUpVendorSettings {{ BaseUrl = {Http.BaseUrl}, Countries = {string.Join(",", Countries)} }}"; // never the key
}
