using System.Globalization;

namespace Steller.Application.Time;

/// <summary>The one reading of an instant given as text (query strings, CLI options): ISO 8601, UTC when no offset is given.</summary>
public static class Instants
{
    /// <summary>True with null for no text; true with the instant for a valid one; false for anything else.</summary>
    public static bool TryParse(string? text, out DateTimeOffset? instant)
    {
        instant = null;
        if (string.IsNullOrEmpty(text)) return true;
        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal,
                out var parsed))
            return false;
        instant = parsed;
        return true;
    }
}
