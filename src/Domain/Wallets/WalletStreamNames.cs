
namespace Steller.Domain.Wallets;

/// <summary>The wallet's stream: "wallet-{partnerId}-{currency}", one per partner and currency.</summary>
public sealed partial record Wallet
{
    public const string StreamPrefix = "wallet-";

    public static string StreamName(string partnerId, string currency) => $"{StreamPrefix}{partnerId}-{currency}";

    /// <summary>Partner and currency of a wallet stream; the currency is the last segment, so partner ids may contain '-'.</summary>
    public static bool TryParseStreamName(string streamId, out string partnerId, out string currency)
    {
        partnerId = currency = "";
        if (!streamId.StartsWith(StreamPrefix, StringComparison.Ordinal)) return false;
        var dash = streamId.LastIndexOf('-');
        if (dash <= StreamPrefix.Length) return false;
        partnerId = streamId[StreamPrefix.Length..dash];
        currency = streamId[(dash + 1)..];
        return Domain.Currency.TryParse(currency, out _) && partnerId.Length > 0;
    }
}
