namespace Steller.Domain.Wallets;

/// <summary>
/// Ledger account names. Partner wallets are event-sourced (one stream each); platform accounts are the counter
/// side of wallet postings and are folded from the wallet events that name them, so every posting is balanced
/// by construction and each currency sums to zero.
/// </summary>
public static class Accounts
{
    public static string Wallet(string partnerId, string currency) => $"wallet:{partnerId}:{currency}";
    /// <summary>Money arriving from outside (deposits) or leaving (withdrawals).</summary>
    public static string Funding(string currency) => $"platform:funding:{currency}";
    /// <summary>Margin earned.</summary>
    public static string Revenue(string currency) => $"platform:revenue:{currency}";
    /// <summary>What Steller owes a vendor.</summary>
    public static string VendorPayable(string vendor, string currency) => $"platform:vendor:{vendor}:{currency}";
    /// <summary>Money between two wallets while a wallet-to-wallet transfer is half done.</summary>
    public static string Transit(string currency) => $"platform:transit:{currency}";

    public static bool IsPlatform(string account) => account.StartsWith("platform:", StringComparison.Ordinal);

    /// <summary>The currency is always the last segment.</summary>
    public static string CurrencyOf(string account) => account[(account.LastIndexOf(':') + 1)..];

    /// <summary>
    /// Platform accounts a capture may credit: revenue, and the payable of a vendor of the hold's currency. The vendor is one
    /// of <paramref name="vendors"/> (the hold's order's vendors) when given, and in any case a well-formed vendor id (1–64 of
    /// a-z, 0-9 and '-'): an account name is never made of whatever a request sent.
    /// </summary>
    public static bool IsCaptureCredit(string account, string currency, IReadOnlyCollection<string>? vendors = null) =>
        account == Revenue(currency)
        || (account.StartsWith("platform:vendor:", StringComparison.Ordinal) && account.EndsWith($":{currency}", StringComparison.Ordinal)
            && account.Split(':') is [_, _, var vendor, _] && IsVendorId(vendor)
            && (vendors is null || vendors.Contains(vendor)));

    /// <summary>Vendor ids as they appear in payable accounts: 1–64 of a-z, 0-9 and '-', not starting with '-'.</summary>
    public static bool IsVendorId(string? vendor) =>
        vendor is { Length: >= 1 and <= 64 } && vendor[0] != '-'
        && vendor.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-');
}

/// <summary>
/// One balanced movement: <paramref name="Amount"/> leaves <paramref name="Debit"/> and reaches <paramref name="Credit"/>.
/// </summary>
public sealed record Posting(string Debit, string Credit, long Amount);
