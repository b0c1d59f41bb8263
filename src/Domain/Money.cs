using System.Collections.Frozen;

namespace Steller.Domain;

/// <summary>
/// An ISO 4217 currency code in active use, with its minor-unit exponent. Amounts are always <c>long</c> minor units beside it
/// (no floating point anywhere). Codes not in <see cref="MinorUnits"/> (withdrawn codes, precious metals, test codes, or any
/// other three capitals such as <c>QQQ</c>) are refused.
/// </summary>
public readonly record struct Currency
{
    /// <summary>
    /// The one table of currencies Steller accepts: ISO 4217 codes in active use and the number of digits of their minor unit
    /// (JPY 0, EUR 2, BHD 3, CLF 4). Codes without a minor unit (XAU, XDR, XTS, XXX, ...) and withdrawn codes (HRK, SLL, ZWL,
    /// CUC, ANG, ...) are not listed.
    /// </summary>
    public static readonly FrozenDictionary<string, int> MinorUnits = new Dictionary<string, int>(StringComparer.Ordinal)
    {
        ["AED"] = 2, ["AFN"] = 2, ["ALL"] = 2, ["AMD"] = 2, ["AOA"] = 2, ["ARS"] = 2, ["AUD"] = 2, ["AWG"] = 2, ["AZN"] = 2,
        ["BAM"] = 2, ["BBD"] = 2, ["BDT"] = 2, ["BGN"] = 2, ["BHD"] = 3, ["BIF"] = 0, ["BMD"] = 2, ["BND"] = 2, ["BOB"] = 2,
        ["BOV"] = 2, ["BRL"] = 2, ["BSD"] = 2, ["BTN"] = 2, ["BWP"] = 2, ["BYN"] = 2, ["BZD"] = 2,
        ["CAD"] = 2, ["CDF"] = 2, ["CHE"] = 2, ["CHF"] = 2, ["CHW"] = 2, ["CLF"] = 4, ["CLP"] = 0, ["CNY"] = 2, ["COP"] = 2,
        ["COU"] = 2, ["CRC"] = 2, ["CUP"] = 2, ["CVE"] = 2, ["CZK"] = 2,
        ["DJF"] = 0, ["DKK"] = 2, ["DOP"] = 2, ["DZD"] = 2, ["EGP"] = 2, ["ERN"] = 2, ["ETB"] = 2, ["EUR"] = 2,
        ["FJD"] = 2, ["FKP"] = 2, ["GBP"] = 2, ["GEL"] = 2, ["GHS"] = 2, ["GIP"] = 2, ["GMD"] = 2, ["GNF"] = 0, ["GTQ"] = 2, ["GYD"] = 2,
        ["HKD"] = 2, ["HNL"] = 2, ["HTG"] = 2, ["HUF"] = 2, ["IDR"] = 2, ["ILS"] = 2, ["INR"] = 2, ["IQD"] = 3, ["IRR"] = 2, ["ISK"] = 0,
        ["JMD"] = 2, ["JOD"] = 3, ["JPY"] = 0, ["KES"] = 2, ["KGS"] = 2, ["KHR"] = 2, ["KMF"] = 0, ["KPW"] = 2, ["KRW"] = 0, ["KWD"] = 3,
        ["KYD"] = 2, ["KZT"] = 2, ["LAK"] = 2, ["LBP"] = 2, ["LKR"] = 2, ["LRD"] = 2, ["LSL"] = 2, ["LYD"] = 3,
        ["MAD"] = 2, ["MDL"] = 2, ["MGA"] = 2, ["MKD"] = 2, ["MMK"] = 2, ["MNT"] = 2, ["MOP"] = 2, ["MRU"] = 2, ["MUR"] = 2, ["MVR"] = 2,
        ["MWK"] = 2, ["MXN"] = 2, ["MXV"] = 2, ["MYR"] = 2, ["MZN"] = 2,
        ["NAD"] = 2, ["NGN"] = 2, ["NIO"] = 2, ["NOK"] = 2, ["NPR"] = 2, ["NZD"] = 2, ["OMR"] = 3,
        ["PAB"] = 2, ["PEN"] = 2, ["PGK"] = 2, ["PHP"] = 2, ["PKR"] = 2, ["PLN"] = 2, ["PYG"] = 0, ["QAR"] = 2,
        ["RON"] = 2, ["RSD"] = 2, ["RUB"] = 2, ["RWF"] = 0,
        ["SAR"] = 2, ["SBD"] = 2, ["SCR"] = 2, ["SDG"] = 2, ["SEK"] = 2, ["SGD"] = 2, ["SHP"] = 2, ["SLE"] = 2, ["SOS"] = 2, ["SRD"] = 2,
        ["SSP"] = 2, ["STN"] = 2, ["SVC"] = 2, ["SYP"] = 2, ["SZL"] = 2,
        ["THB"] = 2, ["TJS"] = 2, ["TMT"] = 2, ["TND"] = 3, ["TOP"] = 2, ["TRY"] = 2, ["TTD"] = 2, ["TWD"] = 2, ["TZS"] = 2,
        ["UAH"] = 2, ["UGX"] = 0, ["USD"] = 2, ["USN"] = 2, ["UYI"] = 0, ["UYU"] = 2, ["UYW"] = 4, ["UZS"] = 2,
        ["VED"] = 2, ["VES"] = 2, ["VND"] = 0, ["VUV"] = 0, ["WST"] = 2,
        ["XAF"] = 0, ["XCD"] = 2, ["XCG"] = 2, ["XOF"] = 0, ["XPF"] = 0, ["YER"] = 2, ["ZAR"] = 2, ["ZMW"] = 2, ["ZWG"] = 2,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    public string Code { get; }

    /// <summary>Digits of the minor unit: 0 for JPY, 2 for EUR, 3 for BHD.</summary>
    public int Exponent => MinorUnits[Code];

    private Currency(string code) => Code = code;

    public static bool TryParse(string? text, out Currency currency)
    {
        currency = default;
        if (text is null || !MinorUnits.ContainsKey(text)) return false;
        currency = new Currency(text);
        return true;
    }

    public static Currency Parse(string text) =>
        TryParse(text, out var c) ? c : throw new ArgumentException(UnknownMessage(text));

    /// <summary>Whether <paramref name="code"/> is an accepted ISO 4217 code.</summary>
    public static bool IsKnown(string? code) => code is not null && MinorUnits.ContainsKey(code);

    /// <summary>
    /// The refusal text for a code that is not accepted; it names the code when it looks like one (three capital letters),
    /// and never echoes anything else a caller sent.
    /// </summary>
    public static string UnknownMessage(string? code) =>
        code is { Length: 3 } && code.All(char.IsAsciiLetterUpper)
            ? $"'{code}' is not an ISO 4217 currency code in use; use one such as EUR, USD, JPY or BHD."
            : "an ISO 4217 currency code in use, such as EUR, USD, JPY or BHD";

    public override string ToString() => Code;
}

/// <summary>
/// The bounds of money: every amount a command carries and every balance it leads to is at most
/// <see cref="MaxMinorUnits"/> minor units either way (10^15: ten trillion EUR), far inside a <c>long</c>, so that sums of
/// a few of them (a capture's legs, pending plus a credit limit) cannot wrap either. Formatting uses the currency's exponent.
/// </summary>
public static class Money
{
    public const long MaxMinorUnits = 1_000_000_000_000_000;

    public static readonly DomainError AmountOutOfRange = new("amount_out_of_range",
        $"Amounts and the balances they lead to are at most {MaxMinorUnits} minor units (10^15) either way.");

    /// <summary>0 ≤ <paramref name="amount"/> ≤ <see cref="MaxMinorUnits"/> is within the bound; so is its negative.</summary>
    public static bool InRange(long amount) => amount is >= -MaxMinorUnits and <= MaxMinorUnits;

    /// <summary>Whether <paramref name="balance"/> + <paramref name="delta"/> stays within the bound (no wrap on the way).</summary>
    public static bool StaysInRange(long balance, long delta) => InRange(delta) && InRange(balance) && InRange(balance + delta);

    /// <summary>
    /// Minor units as a decimal number in the currency's major unit, invariant culture: 12345 EUR → "123.45", 12345 JPY →
    /// "12345", 12345 BHD → "12.345". Unknown codes are shown with 2 digits.
    /// </summary>
    public static string Format(long minor, string? currency) => Format((decimal)minor, currency);

    /// <summary><see cref="Format(long, string?)"/> for a sum that may lie outside a <c>long</c> (an audit's currency total).</summary>
    public static string Format(decimal minor, string? currency)
    {
        var digits = currency is not null && Currency.MinorUnits.TryGetValue(currency, out var d) ? d : 2;
        var scaled = minor;
        for (var i = 0; i < digits; i++) scaled /= 10m;
        return scaled.ToString(digits == 0 ? "0" : "0." + new string('0', digits), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary><see cref="Format"/> followed by the code: "123.45 EUR".</summary>
    public static string FormatWithCode(long minor, string? currency) => $"{Format(minor, currency)} {currency}".TrimEnd();
}

/// <summary>The bound of stock quantities: every quantity a command carries and every level it leads to is at most 10^9 units.</summary>
public static class Quantity
{
    public const long Max = 1_000_000_000;

    public static readonly DomainError OutOfRange = new("quantity_out_of_range",
        $"Quantities and the stock levels they lead to are at most {Max} units (10^9) either way.");

    public static bool InRange(long quantity) => quantity is >= -Max and <= Max;

    public static bool StaysInRange(long level, long delta) => InRange(delta) && InRange(level) && InRange(level + delta);
}
