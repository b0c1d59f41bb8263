using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace Steller.Infrastructure.Configuration;

/// <summary>
/// Reads one number of a section the way <see cref="StellerSettings"/> does: absent means the default; anything else must parse
/// and lie within its bounds, or a <see cref="ConfigurationException"/> names the key, its environment variable, what was
/// expected and what was given (the one line startup prints).
/// </summary>
public static class SettingValues
{
    public static double Number(IConfigurationSection section, string key, double fallback, double min, double max)
    {
        var text = section[key];
        if (string.IsNullOrWhiteSpace(text)) return fallback;
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) && v >= min && v <= max ? v
            : throw Bad(section, key, $"a number from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}, got '{text}'");
    }

    public static int WholeNumber(IConfigurationSection section, string key, int fallback, int min, int max)
    {
        var text = section[key];
        if (string.IsNullOrWhiteSpace(text)) return fallback;
        return int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) && v >= min && v <= max ? v
            : throw Bad(section, key, $"a whole number from {min} to {max}, got '{text}'");
    }

    public static bool Flag(IConfigurationSection section, string key, bool fallback)
    {
        var text = section[key];
        if (string.IsNullOrWhiteSpace(text)) return fallback;
        return bool.TryParse(text, out var v) ? v : throw Bad(section, key, $"true or false, got '{text}'");
    }

    public static ConfigurationException Bad(IConfigurationSection section, string key, string expected) =>
        new($"{section.Path}:{key} (env {StellerSettings.EnvName(section, key)}) is invalid; expected {expected}.");
}
