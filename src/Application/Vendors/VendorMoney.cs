using Steller.Domain;

namespace Steller.Application.Vendors;

/// <summary>
/// Vendors send money as decimals in major units; Steller keeps <c>long</c> minor units. The number of minor-unit
/// digits comes from ISO 4217 (EUR/USD/GBP: 2, JPY/KRW: 0, KWD/BHD: 3, ...).
/// Rounding rules, one per kind of amount, so a conversion never works against Steller:
/// <list type="bullet">
/// <item>a <b>cost</b> rounds UP to the next minor unit (14.555 GBP → 1456): a cost is never under-stated;</item>
/// <item>a <b>discount</b> (basis points) rounds DOWN (3.125 % → 312 bp): the implied cost is never under-stated either;</item>
/// <item>a <b>minimum face value</b> rounds up and a <b>maximum face value</b> rounds down (the range only shrinks);</item>
/// <item>a <b>fixed face value</b> must be exact in minor units (otherwise the product is unusable and skipped).</item>
/// </list>
/// </summary>
public static class VendorMoney
{
    /// <summary>Minor-unit digits of an ISO 4217 code, from the one table in the domain (<see cref="Currency.MinorUnits"/>; 2 when unknown).</summary>
    public static int MinorDigits(string currency) => Currency.MinorUnits.TryGetValue(currency, out var d) ? d : 2;

    private static decimal Scale(string currency) => MinorDigits(currency) switch { 0 => 1m, 3 => 1_000m, 4 => 10_000m, _ => 100m };

    /// <summary>A cost: rounds up to the next minor unit.</summary>
    public static long CostToMinor(decimal major, string currency) => (long)decimal.Ceiling(major * Scale(currency));

    /// <summary>A lower bound (minimum face value): rounds up.</summary>
    public static long MinimumToMinor(decimal major, string currency) => (long)decimal.Ceiling(major * Scale(currency));

    /// <summary>An upper bound (maximum face value): rounds down.</summary>
    public static long MaximumToMinor(decimal major, string currency) => (long)decimal.Floor(major * Scale(currency));

    /// <summary>An amount that must be exact (a fixed face value); null when it has more digits than the currency allows.</summary>
    public static long? ExactToMinor(decimal major, string currency)
    {
        var scaled = major * Scale(currency);
        return scaled == decimal.Truncate(scaled) ? (long)scaled : null;
    }

    /// <summary>Minor units back to the vendor's major units (exact).</summary>
    public static decimal ToMajor(long minor, string currency) => minor / Scale(currency);

    /// <summary>A discount given as a fraction of face value (0.03 = 3 %) in basis points, rounded down.</summary>
    public static int DiscountToBasisPoints(decimal fraction) => (int)decimal.Floor(fraction * 10_000m);
}

/// <summary>A vendor's balance answer, checked before Steller believes it (<see cref="IVendorBalances"/>).</summary>
public static class VendorBalances
{
    /// <summary>
    /// The reported balance in minor units, or the reason it cannot be believed: it must be within the money bound
    /// (<see cref="Money.MaxMinorUnits"/>); digits below the minor unit are rounded down and marked inexact.
    /// </summary>
    public static VendorReportedBalance Check(string vendor, string currency, decimal reported)
    {
        var scaled = Math.Abs(reported) > 1e20m ? decimal.MaxValue : reported / VendorMoney.ToMajor(1, currency);
        if (Math.Abs(scaled) > Money.MaxMinorUnits)
            throw new VendorUnavailableException(vendor, $"the reported {currency} balance {reported} is outside the money bound");
        var minor = (long)decimal.Floor(scaled);
        return new VendorReportedBalance(vendor, currency, reported, minor, minor == scaled);
    }
}
