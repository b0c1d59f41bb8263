using Microsoft.Extensions.Configuration;
using Steller.Infrastructure.Configuration;

namespace Steller.Infrastructure.Webhooks;

/// <summary>
/// <c>Webhooks:*</c>. <see cref="RetrySchedule"/> is the delay before each attempt (the first is normally 0: at once);
/// after the last one fails the message is <c>failed</c>. Configured as a comma-separated list of seconds
/// (<c>Webhooks:RetryScheduleSeconds</c>).
/// </summary>
public sealed record WebhookOptions
{
    public bool AllowPrivateTargets { get; init; }
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(15);
    public IReadOnlyList<TimeSpan> RetrySchedule { get; init; } = DefaultSchedule;
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>
    /// The dispatcher's poll while the queue was last seen empty (no pending message on any node) and nothing is in flight
    /// here (<c>Webhooks:IdlePollMilliseconds</c>): new messages wake the node that wrote them at once, so this only bounds how
    /// soon another node sees them.
    /// </summary>
    public TimeSpan IdlePollInterval { get; init; } = TimeSpan.FromSeconds(5);
    public int MaxConcurrency { get; init; } = 32;
    public int MaxConcurrencyPerEndpoint { get; init; } = 4;
    public int MaxEndpointsPerPartner { get; init; } = 10;
    public TimeSpan RotationOverlap { get; init; } = TimeSpan.FromHours(24);
    public int MaxStoredAnswerBytes { get; init; } = 1024;
    /// <summary>An endpoint whose every attempt failed for this long is disabled (<c>Webhooks:DisableAfterFailingDays</c>, 5).</summary>
    public TimeSpan DisableAfterFailing { get; init; } = TimeSpan.FromDays(5);

    public static readonly IReadOnlyList<TimeSpan> DefaultSchedule =
    [
        TimeSpan.Zero, TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(30), TimeSpan.FromHours(2),
        TimeSpan.FromHours(5), TimeSpan.FromHours(10), TimeSpan.FromHours(10),
    ];

    /// <summary>Binds <c>Webhooks:*</c>; a bad value throws <see cref="Configuration.ConfigurationException"/> naming the key.</summary>
    public static WebhookOptions Load(IConfiguration configuration)
    {
        var s = configuration.GetSection("Webhooks");
        var options = new WebhookOptions
        {
            AllowPrivateTargets = SettingValues.Flag(s, "AllowPrivateTargets", false),
            Timeout = TimeSpan.FromSeconds(SettingValues.Number(s, "TimeoutSeconds", 15, 0.001, 3_600)),
            PollInterval = TimeSpan.FromMilliseconds(SettingValues.WholeNumber(s, "PollMilliseconds", 1000, 1, 600_000)),
            IdlePollInterval = TimeSpan.FromMilliseconds(SettingValues.WholeNumber(s, "IdlePollMilliseconds", 5000, 1, 600_000)),
            MaxConcurrency = SettingValues.WholeNumber(s, "MaxConcurrency", 32, 1, 10_000),
            MaxConcurrencyPerEndpoint = SettingValues.WholeNumber(s, "MaxConcurrencyPerEndpoint", 4, 1, 1_000),
            DisableAfterFailing = TimeSpan.FromDays(SettingValues.Number(s, "DisableAfterFailingDays", 5, 0.000001, 3_650)),
        };
        if (s["RetryScheduleSeconds"] is { Length: > 0 } schedule)
        {
            var delays = new List<TimeSpan>();
            foreach (var x in schedule.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                delays.Add(double.TryParse(x, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var seconds)
                        && double.IsFinite(seconds) && seconds is >= 0 and <= 30 * 86_400
                    ? TimeSpan.FromSeconds(seconds)
                    : throw SettingValues.Bad(s, "RetryScheduleSeconds", $"comma-separated delays in seconds from 0 to 2592000, got '{schedule}'"));
            if (delays.Count == 0)
                throw SettingValues.Bad(s, "RetryScheduleSeconds", $"at least one delay in seconds, got '{schedule}'");
            options = options with { RetrySchedule = delays };
        }
        return options;
    }
}
