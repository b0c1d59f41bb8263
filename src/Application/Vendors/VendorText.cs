using System.Text;

namespace Steller.Application.Vendors;

/// <summary>
/// What a vendor answers is untrusted input: before any of it enters an event (reasons, codes, serial numbers) it is made
/// safe to store and show. Control characters (NUL, ESC, ...) and the bidirectional overrides become a space (runs of
/// them one space), a lone surrogate becomes U+FFFD, and the text is cut to a maximum length (never inside a surrogate
/// pair), ending with "…" when cut.
/// </summary>
public static class VendorText
{
    /// <summary>Longest failure or rejection reason kept from a vendor, in UTF-16 code units.</summary>
    public const int MaxReason = 500;
    /// <summary>Longest serial number kept from a vendor.</summary>
    public const int MaxSerial = 100;

    public static string? Clean(string? text, int max)
    {
        if (text is null) return null;
        var clean = new StringBuilder(Math.Min(text.Length, max + 2));
        var lastWasSpace = false;
        for (var i = 0; i < text.Length && clean.Length <= max; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                clean.Append(c).Append(text[++i]);
                lastWasSpace = false;
                continue;
            }
            if (char.IsSurrogate(c)) c = '\uFFFD';
            if (char.IsControl(c) || IsBidiControl(c)) c = ' ';
            if (c == ' ' && lastWasSpace) continue;
            clean.Append(c);
            lastWasSpace = c == ' ';
        }
        var result = clean.ToString().Trim();
        if (result.Length <= max) return result;
        var keep = max - 1;
        if (char.IsHighSurrogate(result[keep - 1])) keep--;
        return result[..keep] + "…";
    }

    /// <summary>Cleans a reason (<see cref="MaxReason"/>).</summary>
    public static string? Reason(string? text) => Clean(text, MaxReason);

    private static bool IsBidiControl(char c) => c is >= '\u202A' and <= '\u202E' or >= '\u2066' and <= '\u2069' or '\u200E' or '\u200F'
        or '\u061C';
}
