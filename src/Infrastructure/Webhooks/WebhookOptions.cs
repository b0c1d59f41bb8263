using Microsoft.Extensions.Configuration;

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

    public static WebhookOptions Load(IConfiguration configuration)
    {
        var s = configuration.GetSection("Webhooks");
        var options = new WebhookOptions
        {
            AllowPrivateTargets = s.GetValue("AllowPrivateTargets", false),
            Timeout = TimeSpan.FromSeconds(s.GetValue("TimeoutSeconds", 15.0)),
            PollInterval = TimeSpan.FromMilliseconds(s.GetValue("PollMilliseconds", 1000)),
            MaxConcurrency = s.GetValue("MaxConcurrency", 32),
            MaxConcurrencyPerEndpoint = s.GetValue("MaxConcurrencyPerEndpoint", 4),
            DisableAfterFailing = TimeSpan.FromDays(s.GetValue("DisableAfterFailingDays", 5.0)),
        };
        if (s["RetryScheduleSeconds"] is { Length: > 0 } schedule)
            options = options with
            {
                RetrySchedule = schedule.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                    .Select(x => TimeSpan.FromSeconds(double.Parse(x, System.Globalization.CultureInfo.InvariantCulture))).ToList(),
            };
        if (options.RetrySchedule.Count == 0 || options.MaxConcurrency < 1 || options.MaxConcurrencyPerEndpoint < 1 || options.Timeout <= TimeSpan.Zero
            || options.DisableAfterFailing <= TimeSpan.Zero)
            throw new Configuration.ConfigurationException("Webhooks: RetryScheduleSeconds needs at least one entry; concurrency and timeout must be positive.");
        return options;
    }
}
