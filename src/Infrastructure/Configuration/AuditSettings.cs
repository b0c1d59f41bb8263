using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace Steller.Infrastructure.Configuration;

/// <summary>
/// Section <c>Audits</c>: the nightly audits (ledger, stock, each vendor reconciliation). <c>Audits:NightlyAtUtc</c> (HH:mm,
/// default 02:00) is when they run; <c>Audits:CheckSeconds</c> (default 60) how often a node looks whether they are due, on the
/// application clock; <c>Audits:Enabled</c> (default true) turns the job off.
/// </summary>
public sealed record AuditSettings(bool Enabled = true, TimeSpan? NightlyAtUtc = null, int CheckSeconds = 60)
{
    public TimeSpan At => NightlyAtUtc ?? TimeSpan.FromHours(2);

    public static AuditSettings Load(IConfiguration config)
    {
        var s = config.GetSection("Audits");
        var enabled = s["Enabled"] is { Length: > 0 } e
            ? bool.TryParse(e, out var on) ? on : throw Bad(s, "Enabled", $"true or false, got '{e}'")
            : true;
        TimeSpan? at = null;
        if (s["NightlyAtUtc"] is { Length: > 0 } text)
            at = TimeSpan.TryParseExact(text, @"hh\:mm", CultureInfo.InvariantCulture, out var t) && t < TimeSpan.FromDays(1) ? t
                : throw Bad(s, "NightlyAtUtc", $"a time of day HH:mm in UTC such as 02:00, got '{text}'");
        var check = 60;
        if (s["CheckSeconds"] is { Length: > 0 } c && !(int.TryParse(c, NumberStyles.None, CultureInfo.InvariantCulture, out check)
                && check is >= 1 and <= 3_600))
            throw Bad(s, "CheckSeconds", $"a whole number from 1 to 3600, got '{c}'");
        return new AuditSettings(enabled, at, check);
    }

    private static ConfigurationException Bad(IConfigurationSection section, string key, string expected) =>
        new($"{section.Path}:{key} (env {StellerSettings.EnvName(section, key)}) is invalid; expected {expected}.");
}
